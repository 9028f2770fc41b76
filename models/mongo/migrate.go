package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// MigrationReport says what Migrate changed and what it could not.
type MigrationReport struct {
	HandlesLowered  int              // users whose handle was lower-cased
	HandleConflicts []HandleConflict // handles left as they were: the lower-case form is taken
	ChatsTyped      int              // chats given a type (and a directKey when direct)
	ChatsCompleted  int              // chats given createdBy, admins or lastActivity
	// DirectKeyConflicts lists direct chats of a pair that already has a direct chat; they
	// stay direct chats but DirectChat finds only the first.
	DirectKeyConflicts []string
	MessagesSequenced  int // messages given a seq
	ChatsSequenced     int // chats whose lastSeq was raised to their highest seq
	MessagesIndexed    int // messages given searchWords (message:search finds them from now on)
	RequestsKeyed      int // pending friend requests given their pendingKey
	// RequestConflicts lists pending requests duplicating another pending request in the
	// same direction; they keep working but do not block a new one.
	RequestConflicts []string
	Indexes          []IndexResult
}

// HandleConflict is a user whose handle could not be lower-cased.
type HandleConflict struct {
	UserID, Handle, TakenBy string
}

// Changes is the number of documents the migration changed.
func (r MigrationReport) Changes() int {
	return r.HandlesLowered + r.ChatsTyped + r.ChatsCompleted + r.MessagesSequenced + r.ChatsSequenced +
		r.MessagesIndexed + r.RequestsKeyed
}

// String summarises the report for the migrate command's output.
func (r MigrationReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "handles lowered: %d (conflicts: %d)\n", r.HandlesLowered, len(r.HandleConflicts))
	for _, c := range r.HandleConflicts {
		fmt.Fprintf(&b, "  user %s: handle %q, %q is taken by user %s\n", c.UserID, c.Handle, strings.ToLower(c.Handle), c.TakenBy)
	}
	fmt.Fprintf(&b, "chats typed: %d, completed: %d, direct-pair conflicts: %v\n", r.ChatsTyped, r.ChatsCompleted, r.DirectKeyConflicts)
	fmt.Fprintf(&b, "messages given a seq: %d, chats whose lastSeq moved: %d\n", r.MessagesSequenced, r.ChatsSequenced)
	fmt.Fprintf(&b, "messages made searchable (searchWords): %d\n", r.MessagesIndexed)
	fmt.Fprintf(&b, "pending requests keyed: %d, duplicates: %v\n", r.RequestsKeyed, r.RequestConflicts)
	for _, ix := range r.Indexes {
		if ix.Outcome != "ok" {
			fmt.Fprintf(&b, "index %s %s: %s %s\n", ix.Collection, ix.Keys, ix.Outcome, ix.Detail)
		}
	}
	return b.String()
}

// migrationBatch is how many message updates go to the server in one bulk write.
const migrationBatch = 1000

// Migrate prepares a database written by the Node server for Parley, in place:
//
//  1. lower-cases handles (a handle whose lower-case form another user has is reported
//     in HandleConflicts and left alone);
//  2. gives chats what Parley reads and Node did not store: type (two participants and
//     no name make a direct chat, with its directKey; anything else is a group),
//     createdBy (the first participant), admins (a group's creator; [] for a direct
//     chat) and lastActivity (updatedAt, else createdAt);
//  3. numbers each chat's messages that have no seq 1, 2, 3, … in createdAt order (then
//     _id), after any seq the chat already has, and raises chats.lastSeq to match;
//  4. gives every message that is not deleted and has no searchWords its words
//     (models.SearchWords), so message:search finds it; a message whose text changed
//     meanwhile is left for the next run;
//  5. keys pending friend requests (pendingKey) for the one-pending-request rule;
//  6. creates the indexes, now that the data satisfies them.
//
// It only adds fields, never removes or retypes a Node one, and every step selects only
// documents that still lack what it adds, so running it again changes nothing (and a run
// interrupted half way is finished by the next). Each message update is conditioned on
// the message still having no seq, and a chat's messages are numbered in order with
// ordered bulk writes, so an interrupted numbering resumes where it stopped. It is meant
// to run while no server writes to the database (`parley migrate` before the first start).
func Migrate(ctx context.Context, s *Store) (MigrationReport, error) {
	if _, ok := ctx.Deadline(); !ok {
		// Without a deadline the driver bounds each operation by Options.SocketTimeout,
		// and sends it as maxTimeMS, which MongoDB counts over a cursor's whole life: too
		// short for streaming a large Node-era collection. The caller can still cancel.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 24*time.Hour)
		defer cancel()
	}
	var r MigrationReport
	steps := []func(context.Context, *MigrationReport) error{
		s.migrateHandles, s.migrateChats, s.migrateSeqs, s.migrateSearchWords, s.migrateRequests,
	}
	for _, step := range steps {
		if err := step(ctx, &r); err != nil {
			return r, err
		}
	}
	// The capabilities found here equal those Open found (same server), so the running
	// store keeps its own.
	_, ix, err := s.ensureIndexes(ctx)
	r.Indexes = ix
	return r, err
}

func (s *Store) migrateHandles(ctx context.Context, r *MigrationReport) error {
	// Every user is read: a regular expression could only find ASCII upper case.
	cur, err := s.users.Find(ctx, bson.D{{Key: "handle", Value: bson.D{{Key: "$type", Value: "string"}}}},
		options.Find().SetProjection(bson.D{{Key: "handle", Value: 1}}))
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var u struct {
			ID     bson.ObjectID `bson:"_id"`
			Handle string        `bson:"handle"`
		}
		if err := cur.Decode(&u); err != nil {
			return mapErr(err)
		}
		lower := strings.ToLower(u.Handle)
		if lower == u.Handle {
			continue
		}
		_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: u.ID}, {Key: "handle", Value: u.Handle}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "handle", Value: lower}}}})
		switch {
		case err == nil:
			r.HandlesLowered++
		case isDup(err):
			c := HandleConflict{UserID: u.ID.Hex(), Handle: u.Handle}
			if owner, ferr := s.UserByHandle(ctx, lower); ferr == nil {
				c.TakenBy = owner.ID
			}
			r.HandleConflicts = append(r.HandleConflicts, c)
		default:
			return mapErr(err)
		}
	}
	return mapErr(cur.Err())
}

// rawChat is a chat as the Node server may have left it: fields may be missing.
type rawChat struct {
	ID           bson.ObjectID   `bson:"_id"`
	Type         *string         `bson:"type"`
	Name         *string         `bson:"name"`
	Participants []bson.ObjectID `bson:"participants"`
	Admins       []bson.ObjectID `bson:"admins"`
	CreatedBy    *bson.ObjectID  `bson:"createdBy"`
	DirectKey    *string         `bson:"directKey"`
	LastActivity *time.Time      `bson:"lastActivity"`
	CreatedAt    *time.Time      `bson:"createdAt"`
	UpdatedAt    *time.Time      `bson:"updatedAt"`
	LastSeq      *int64          `bson:"lastSeq"`
}

func (s *Store) migrateChats(ctx context.Context, r *MigrationReport) error {
	cur, err := s.chats.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "type", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "type", Value: models.ChatDirect}, {Key: "directKey", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "createdBy", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "admins", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "lastActivity", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}})
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var c rawChat
		if err := cur.Decode(&c); err != nil {
			return mapErr(err)
		}
		if err := s.migrateChat(ctx, &c, r); err != nil {
			return err
		}
	}
	return mapErr(cur.Err())
}

func (s *Store) migrateChat(ctx context.Context, c *rawChat, r *MigrationReport) error {
	set := bson.D{}
	typ := ""
	if c.Type != nil {
		typ = *c.Type
	} else {
		typ = models.ChatGroup
		if len(c.Participants) == 2 && (c.Name == nil || *c.Name == "") {
			typ = models.ChatDirect
		}
		set = append(set, bson.E{Key: "type", Value: typ})
	}
	completed := false // createdBy, admins, lastActivity or directKey added
	creator := c.CreatedBy
	if creator == nil && len(c.Participants) > 0 {
		creator = &c.Participants[0]
		set = append(set, bson.E{Key: "createdBy", Value: *creator})
		completed = true
	}
	if c.Admins == nil {
		admins := []bson.ObjectID{}
		if typ == models.ChatGroup && creator != nil {
			admins = append(admins, *creator)
		}
		set = append(set, bson.E{Key: "admins", Value: admins})
		completed = true
	}
	if c.LastActivity == nil {
		at := c.ID.Timestamp()
		switch {
		case c.UpdatedAt != nil:
			at = *c.UpdatedAt
		case c.CreatedAt != nil:
			at = *c.CreatedAt
		}
		set = append(set, bson.E{Key: "lastActivity", Value: ms(at)})
		completed = true
	}
	if len(set) > 0 {
		if _, err := s.chats.UpdateOne(ctx, byID(c.ID), bson.D{{Key: "$set", Value: set}}); err != nil {
			return mapErr(err)
		}
	}
	if typ == models.ChatDirect && c.DirectKey == nil && len(c.Participants) == 2 {
		// A separate write, so that a pair with two Node-era direct chats still gets
		// everything else, and the second chat is reported instead of failing the run.
		key := directKey(c.Participants[0].Hex(), c.Participants[1].Hex())
		_, err := s.chats.UpdateOne(ctx, byID(c.ID), bson.D{{Key: "$set", Value: bson.D{{Key: "directKey", Value: key}}}})
		switch {
		case isDup(err):
			r.DirectKeyConflicts = append(r.DirectKeyConflicts, c.ID.Hex())
		case err != nil:
			return mapErr(err)
		default:
			completed = true
		}
	}
	if c.Type == nil {
		r.ChatsTyped++
	}
	if completed {
		r.ChatsCompleted++
	}
	return nil
}

// migrateSeqs numbers the messages without a seq, chat by chat, and raises lastSeq.
func (s *Store) migrateSeqs(ctx context.Context, r *MigrationReport) error {
	noSeq := bson.D{{Key: "seq", Value: bson.D{{Key: "$exists", Value: false}}}}
	chatIDs, err := s.distinctChatIDs(ctx, noSeq)
	if err != nil {
		return err
	}
	for _, cid := range chatIDs {
		if err := s.sequenceChat(ctx, cid, r); err != nil {
			return err
		}
	}
	// Every chat's lastSeq must cover its highest seq (also for chats numbered by an
	// interrupted earlier run, or whose lastSeq is missing).
	cur, err := s.chats.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "lastSeq", Value: 1}}))
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var c struct {
			ID      bson.ObjectID `bson:"_id"`
			LastSeq *int64        `bson:"lastSeq"`
		}
		if err := cur.Decode(&c); err != nil {
			return mapErr(err)
		}
		top, err := s.highestSeq(ctx, c.ID)
		if err != nil {
			return err
		}
		if c.LastSeq != nil && *c.LastSeq >= top {
			continue
		}
		if _, err := s.chats.UpdateOne(ctx, byID(c.ID), bson.D{{Key: "$max", Value: bson.D{{Key: "lastSeq", Value: top}}}}); err != nil {
			return mapErr(err)
		}
		r.ChatsSequenced++
	}
	return mapErr(cur.Err())
}

// distinctChatIDs lists the chats of the messages matching filter. It streams the
// messages rather than use the distinct command, which FerretDB refuses together with
// the maxTimeMS the driver adds under a client-side timeout.
func (s *Store) distinctChatIDs(ctx context.Context, filter bson.D) ([]bson.ObjectID, error) {
	cur, err := s.messages.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "chatId", Value: 1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	defer cur.Close(ctx)
	seen := map[bson.ObjectID]bool{}
	var ids []bson.ObjectID
	for cur.Next(ctx) {
		var m struct {
			ChatID bson.ObjectID `bson:"chatId"`
		}
		if err := cur.Decode(&m); err != nil {
			return nil, fmt.Errorf("mongo: a message whose chatId is not an ObjectId: %w", err)
		}
		if !seen[m.ChatID] {
			seen[m.ChatID] = true
			ids = append(ids, m.ChatID)
		}
	}
	return ids, mapErr(cur.Err())
}

func (s *Store) highestSeq(ctx context.Context, cid bson.ObjectID) (int64, error) {
	var top struct {
		Seq int64 `bson:"seq"`
	}
	err := s.messages.FindOne(ctx, bson.D{{Key: "chatId", Value: cid}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: 0}}}},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&top)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return top.Seq, mapErr(err)
}

func (s *Store) sequenceChat(ctx context.Context, cid bson.ObjectID, r *MigrationReport) error {
	next, err := s.highestSeq(ctx, cid)
	if err != nil {
		return err
	}
	cur, err := s.messages.Find(ctx,
		bson.D{{Key: "chatId", Value: cid}, {Key: "seq", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	batch := bulkUpdates{coll: s.messages, ordered: true, modified: &r.MessagesSequenced}
	for cur.Next(ctx) {
		var m struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := cur.Decode(&m); err != nil {
			return mapErr(err)
		}
		next++
		if err := batch.add(ctx, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: m.ID}, {Key: "seq", Value: bson.D{{Key: "$exists", Value: false}}}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: next}}}})); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return mapErr(err)
	}
	return batch.flush(ctx)
}

// migrateSearchWords gives searchWords to the messages without them: all of a Node-era
// database's, and any a Node server wrote since. Each update is conditioned on the text
// read and on the field still missing, so a message edited meanwhile (by Parley, which
// writes its words, or by a Node server) is never given the words of its old text.
func (s *Store) migrateSearchWords(ctx context.Context, r *MigrationReport) error {
	missing := bson.D{
		{Key: "searchWords", Value: bson.D{{Key: "$exists", Value: false}}},
		{Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}},
	}
	cur, err := s.messages.Find(ctx, missing, options.Find().SetProjection(bson.D{{Key: "text", Value: 1}}))
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	batch := bulkUpdates{coll: s.messages, modified: &r.MessagesIndexed}
	for cur.Next(ctx) {
		var m struct {
			ID   bson.ObjectID `bson:"_id"`
			Text bson.RawValue `bson:"text"`
		}
		if err := cur.Decode(&m); err != nil {
			return mapErr(err)
		}
		text, ok := m.Text.StringValueOK()
		if !ok || len(models.SearchWords(text)) == 0 {
			// No text, not a string, or no words (an attachment's empty text, emoji only):
			// nothing to search, and nothing to write, so a second run changes nothing
			// (the store leaves such messages without the field too).
			continue
		}
		if err := batch.add(ctx, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: m.ID}, {Key: "text", Value: text}, missing[0]}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "searchWords", Value: searchWordsValue(text)}}}})); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return mapErr(err)
	}
	return batch.flush(ctx)
}

func (s *Store) migrateRequests(ctx context.Context, r *MigrationReport) error {
	cur, err := s.requests.Find(ctx, bson.D{{Key: "status", Value: models.RequestPending}, {Key: "pendingKey", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d friendRequestDoc
		if err := cur.Decode(&d); err != nil {
			return mapErr(err)
		}
		_, err := s.requests.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "status", Value: models.RequestPending}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "pendingKey", Value: d.From.Hex() + ":" + d.To.Hex()}}}})
		switch {
		case err == nil:
			r.RequestsKeyed++
		case isDup(err):
			r.RequestConflicts = append(r.RequestConflicts, d.ID.Hex())
		default:
			return mapErr(err)
		}
	}
	return mapErr(cur.Err())
}

// bulkUpdates sends a migration's updates to coll in bulk writes of migrationBatch and
// adds what they modified to *modified. ordered: a write stops at its first error.
type bulkUpdates struct {
	coll     *mongo.Collection
	ordered  bool
	modified *int
	batch    []mongo.WriteModel
}

func (b *bulkUpdates) add(ctx context.Context, m mongo.WriteModel) error {
	b.batch = append(b.batch, m)
	if len(b.batch) < migrationBatch {
		return nil
	}
	return b.flush(ctx)
}

func (b *bulkUpdates) flush(ctx context.Context) error {
	if len(b.batch) == 0 {
		return nil
	}
	res, err := b.coll.BulkWrite(ctx, b.batch, options.BulkWrite().SetOrdered(b.ordered))
	if err != nil {
		return mapErr(err)
	}
	*b.modified += int(res.ModifiedCount)
	b.batch = b.batch[:0]
	return nil
}
