package mongo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// How a message gets its seq without transactions
//
// The seq comes from the chat document: one findOneAndUpdate does $inc lastSeq (and
// moves lastActivity and lastSeqAt), which is atomic, so concurrent senders on any number
// of nodes get distinct, consecutive numbers. The message is then stored with that seq.
// Those are two writes, and the store handles what can happen between them:
//
//   - Without a clientId: reserve, then insert. If the insert fails for a reason other
//     than a duplicate key, the reserved seq would be a hole, so it is filled right away
//     with a tombstone (deleted: true, text "", tombstone: true). If the insert hits the
//     unique {chatId, seq} index, the repair filled that seq because this insert arrived
//     later than RepairGrace: the store reserves a new seq and inserts again.
//
//   - With a clientId the send must be idempotent, also against a duplicate sent to
//     another node at the same moment, and a duplicate must not consume a seq. So the
//     message is claimed first: inserted with a unique negative placeholder seq and a
//     `pending` token. The unique clientId index arbitrates: exactly one insert wins, the
//     others find the original and wait for it to get its seq. The winner reserves a seq
//     and swaps it in with an update conditioned on its token. A claim older than
//     RepairGrace is considered abandoned: a retry (or the sweep) takes it over by
//     compare-and-set on the token and finishes it.
//
// What a crash leaves behind, and how it heals:
//
//   - Crash after reserving a seq, before the message holds it: chats.lastSeq counts a seq
//     no message has (a hole). Reads never compute seqs (ListMessages pages by the seqs it
//     finds, LastMessages falls back to a query, CountUnread counts documents), so a hole
//     only shows as a missing number. RepairSeqHoles (run by the sweep for every chat that
//     reserved a seq since its previous pass) fills each hole older than RepairGrace with a
//     tombstone, so clients see 1, 2, 3, … again, the lost one as a deleted message. Its
//     unique {chatId, seq} index makes the fill safe against a late insert of the real
//     message: whichever comes second gets a duplicate-key error (a late message then
//     takes a fresh seq).
//   - Crash after a claim insert, before its seq update: a message with a negative seq
//     and a pending token, invisible to every read (they ask for seq > 0 or no pending). A
//     retry of the same send takes it over once it is older than RepairGrace; without a
//     retry the sweep finishes it, or deletes it if its chat does not exist.

// defaultMessageLimit is message:list's default page size (PROTOCOL.md).
const defaultMessageLimit = 50

// maxSeqAttempts bounds the retries when a reserved seq turns out to be taken.
const maxSeqAttempts = 5

// notPending matches messages that are complete (not a claim waiting for its seq).
func notPending() bson.E {
	return bson.E{Key: "pending", Value: bson.D{{Key: "$exists", Value: false}}}
}

// InsertMessage implements models.Messages (see the comment above for how).
func (s *Store) InsertMessage(ctx context.Context, m *models.Message) (*models.Message, bool, error) {
	chat, ok := oid(m.ChatID)
	if !ok {
		return nil, false, models.ErrNotFound
	}
	doc, err := newMessageDoc(m, chat)
	if err != nil {
		return nil, false, err
	}
	if doc.ClientID != nil {
		return s.insertClaimed(ctx, doc, m.Attachments)
	}
	if len(m.Attachments) == 0 {
		return s.insertWithSeq(ctx, doc)
	}
	// The uploads are claimed before the message exists (a refusal must leave no
	// message, and no seq used), then the message is inserted, then the claims are
	// confirmed (attachments.go).
	atts, claimed, err := s.claimAttachments(ctx, doc.ID, chat, doc.Sender, m.Attachments)
	if err != nil {
		return nil, false, err
	}
	out, created, err := s.insertWithSeq(ctx, doc)
	if err != nil || !created {
		// Not stored, or the caller reused a stored message's id: the uploads stay the
		// caller's, unattached, and the stored message keeps its own attachments.
		s.releaseClaims(ctx, doc.ID, claimed)
		if err != nil {
			return nil, false, err
		}
		return s.withAttachments(ctx, out, false)
	}
	s.confirmClaims(ctx, doc.ID, claimed)
	out.Attachments = atts
	return out, true, nil
}

// withAttachments loads m's attachments into it.
func (s *Store) withAttachments(ctx context.Context, m *models.Message, created bool) (*models.Message, bool, error) {
	atts, err := s.AttachmentsForMessages(ctx, []string{m.ID})
	if err != nil {
		return nil, false, err
	}
	m.Attachments = atts[m.ID]
	return m, created, nil
}

func newMessageDoc(m *models.Message, chat bson.ObjectID) (*messageDoc, error) {
	doc := &messageDoc{ChatID: chat, Text: m.Text, ClientID: m.ClientID, Deleted: m.Deleted, EditedAt: msPtr(m.EditedAt)}
	if !m.Deleted {
		doc.SearchWords = models.SearchWords(m.Text)
	}
	var ok bool
	if m.ID == "" {
		doc.ID = bson.NewObjectID()
	} else if doc.ID, ok = oid(m.ID); !ok {
		return nil, errInvalidID("message", m.ID)
	}
	if doc.Sender, ok = oid(m.SenderID); !ok {
		return nil, errInvalidID("sender", m.SenderID)
	}
	if m.ReplyToID != nil {
		r, ok := oid(*m.ReplyToID)
		if !ok {
			return nil, errInvalidID("reply", *m.ReplyToID)
		}
		doc.ReplyTo = &r
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	doc.CreatedAt, doc.UpdatedAt = ms(created), ms(created)
	if m.ClientID != nil {
		doc.ClientKey = clientKey(doc.Sender, chat, *m.ClientID)
	}
	mentions, err := mentionIDs(m.Mentions)
	if err != nil {
		return nil, err
	}
	doc.Mentions = mentions
	return doc, nil
}

// reserveSeq takes the chat's next seq in one atomic update; a missing chat is ErrNotFound.
func (s *Store) reserveSeq(ctx context.Context, chat bson.ObjectID, at time.Time) (int64, error) {
	var d struct {
		LastSeq int64 `bson:"lastSeq"`
	}
	update := bson.D{
		{Key: "$inc", Value: bson.D{{Key: "lastSeq", Value: int64(1)}}},
		// $max: lastActivity never moves back when senders' clocks interleave.
		{Key: "$max", Value: bson.D{{Key: "lastActivity", Value: at}}},
		{Key: "$set", Value: bson.D{{Key: "lastSeqAt", Value: ms(time.Now())}}},
	}
	defer s.locks.lock(chatKey(chat))()
	err := s.chats.FindOneAndUpdate(ctx, byID(chat), update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return 0, mapErr(err)
	}
	return d.LastSeq, nil
}

// insertWithSeq stores a message sent without a clientId: reserve, then insert.
func (s *Store) insertWithSeq(ctx context.Context, doc *messageDoc) (*models.Message, bool, error) {
	for range maxSeqAttempts {
		seq, err := s.reserveSeq(ctx, doc.ChatID, doc.CreatedAt)
		if err != nil {
			return nil, false, err
		}
		doc.Seq = seq
		_, err = s.messages.InsertOne(ctx, doc)
		if err == nil {
			return doc.model(), true, nil
		}
		if !isDup(err) {
			s.fillHole(ctx, doc.ChatID, seq, doc.Sender)
			return nil, false, mapErr(err)
		}
		// A duplicate key: either the caller reused the id of a stored message (a retry
		// of this very insert after an error whose outcome it could not know), or the
		// seq was taken by the repair. Only the first leaves the reserved seq unused.
		var existing messageDoc
		ferr := s.messages.FindOne(ctx, byID(doc.ID)).Decode(&existing)
		switch {
		case ferr == nil:
			s.fillHole(ctx, doc.ChatID, seq, doc.Sender)
			if existing.ChatID == doc.ChatID && existing.Sender == doc.Sender && existing.Pending == "" {
				return existing.model(), false, nil
			}
			return nil, false, fmt.Errorf("%w: message id %s is taken", models.ErrConflict, doc.ID.Hex())
		case !errors.Is(ferr, mongo.ErrNoDocuments):
			s.fillHole(ctx, doc.ChatID, seq, doc.Sender)
			return nil, false, mapErr(ferr)
		}
	}
	return nil, false, fmt.Errorf("mongo: no free seq for chat %s after %d attempts", doc.ChatID.Hex(), maxSeqAttempts)
}

// placeholderSeq is the seq of a claim: negative (so no read shows it) and random (so
// the unique {chatId, seq} index accepts many claims in one chat at once).
func placeholderSeq() int64 { return -1 - rand.Int64N(1<<62) }

// clientFilter finds the message a send with a clientId produced, through whichever
// index guards idempotency on this server.
func (s *Store) clientFilter(doc *messageDoc) bson.D {
	if s.caps.partial {
		return bson.D{{Key: "sender", Value: doc.Sender}, {Key: "chatId", Value: doc.ChatID},
			{Key: "clientId", Value: bson.D{{Key: "$eq", Value: *doc.ClientID}, {Key: "$exists", Value: true}}}}
	}
	return bson.D{{Key: "clientKey", Value: doc.ClientKey}}
}

// insertClaimed stores a message sent with a clientId: claim, reserve, assign. Its
// uploads are claimed once the message's own claim has won (a duplicate send claims
// nothing and returns the original with its attachments) and before it gets its seq.
func (s *Store) insertClaimed(ctx context.Context, doc *messageDoc, refs []models.Attachment) (*models.Message, bool, error) {
	token := bson.NewObjectID().Hex()
	for range maxSeqAttempts {
		now := ms(time.Now())
		doc.Seq, doc.Pending, doc.PendingAt = placeholderSeq(), token, &now
		_, err := s.messages.InsertOne(ctx, doc)
		if err == nil {
			if len(refs) == 0 {
				return s.finishClaim(ctx, doc, token, true)
			}
			return s.finishWithAttachments(ctx, doc, token, refs)
		}
		if !isDup(err) {
			// If the claim did land, a retry of the send takes it over after RepairGrace,
			// or the sweep finishes it.
			return nil, false, mapErr(err)
		}
		var orig messageDoc
		ferr := s.messages.FindOne(ctx, s.clientFilter(doc)).Decode(&orig)
		if ferr == nil {
			m, created, err := s.awaitOriginal(ctx, &orig)
			if err != nil {
				return nil, false, err
			}
			return s.withAttachments(ctx, m, created)
		}
		if !errors.Is(ferr, mongo.ErrNoDocuments) {
			return nil, false, mapErr(ferr)
		}
		// Not this send's duplicate: a message with this id exists, or (vanishingly
		// rarely) the random placeholder collided; the latter deserves another try.
		if ferr = s.messages.FindOne(ctx, byID(doc.ID)).Err(); ferr == nil {
			return nil, false, fmt.Errorf("%w: message id %s is taken", models.ErrConflict, doc.ID.Hex())
		}
	}
	return nil, false, fmt.Errorf("mongo: could not claim message %s", doc.ID.Hex())
}

// finishWithAttachments claims the uploads of the message doc, whose own claim (token)
// this call holds, then gives it its seq. A refused upload withdraws the message.
func (s *Store) finishWithAttachments(ctx context.Context, doc *messageDoc, token string, refs []models.Attachment) (*models.Message, bool, error) {
	atts, claimed, err := s.claimAttachments(ctx, doc.ID, doc.ChatID, doc.Sender, refs)
	if err != nil {
		s.withdrawClaim(ctx, doc, token)
		return nil, false, err
	}
	m, created, err := s.finishClaim(ctx, doc, token, true)
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.releaseClaims(ctx, doc.ID, claimed) // no such chat: the message was withdrawn
		return nil, false, err
	case err != nil:
		// The message's claim stays, and the uploads' with it: a retry or the sweep
		// finishes the message, and the sweep then confirms its attachments.
		return nil, false, err
	}
	s.confirmClaims(ctx, doc.ID, claimed)
	m.Attachments = atts
	return m, created, nil
}

// withdrawClaim deletes the claim (holding token) of a message that will not be stored;
// if that fails the sweep finishes the message (its chat exists) or removes it.
func (s *Store) withdrawClaim(ctx context.Context, doc *messageDoc, token string) {
	dctx, cancel := s.detached(ctx)
	defer cancel()
	unlock := s.locks.lock(messageKey(doc.ID))
	_, err := s.messages.DeleteOne(dctx, bson.D{{Key: "_id", Value: doc.ID}, {Key: "pending", Value: token}})
	unlock()
	if err != nil {
		s.log.Warn().Err(err).Str("message", doc.ID.Hex()).Msg("could not withdraw the claim of a message that will not be stored")
	}
}

// finishClaim gives the claimed message doc (holding token) its seq. created is what to
// report to the caller on success.
func (s *Store) finishClaim(ctx context.Context, doc *messageDoc, token string, created bool) (*models.Message, bool, error) {
	for range maxSeqAttempts {
		seq, err := s.reserveSeq(ctx, doc.ChatID, doc.CreatedAt)
		if errors.Is(err, models.ErrNotFound) {
			// No such chat: withdraw the claim (the sweep removes it if this fails too).
			s.withdrawClaim(ctx, doc, token)
			return nil, false, models.ErrNotFound
		}
		if err != nil {
			return nil, false, err
		}
		unlock := s.locks.lock(messageKey(doc.ID))
		res, err := s.messages.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: doc.ID}, {Key: "pending", Value: token}},
			bson.D{
				{Key: "$set", Value: bson.D{{Key: "seq", Value: seq}}},
				{Key: "$unset", Value: bson.D{{Key: "pending", Value: ""}, {Key: "pendingAt", Value: ""}}},
			})
		unlock()
		switch {
		case err != nil && isDup(err):
			continue // the repair filled this seq meanwhile: take the next one
		case err != nil:
			s.fillHole(ctx, doc.ChatID, seq, doc.Sender)
			return nil, false, mapErr(err)
		case res.MatchedCount == 0:
			// Another call took the claim over (this one was slower than RepairGrace) and
			// gives the message its own seq; this seq stays unused.
			s.fillHole(ctx, doc.ChatID, seq, doc.Sender)
			var cur messageDoc
			if err := s.messages.FindOne(ctx, byID(doc.ID)).Decode(&cur); err != nil {
				return nil, false, mapErr(err)
			}
			m, _, err := s.awaitOriginal(ctx, &cur)
			return m, created, err
		}
		doc.Seq, doc.Pending, doc.PendingAt = seq, "", nil
		return doc.model(), created, nil
	}
	return nil, false, fmt.Errorf("mongo: no free seq for chat %s after %d attempts", doc.ChatID.Hex(), maxSeqAttempts)
}

// awaitOriginal returns the message orig once it has its seq: at once if it has, else
// after the claimant finishes it, or after taking over a claim older than RepairGrace.
func (s *Store) awaitOriginal(ctx context.Context, orig *messageDoc) (*models.Message, bool, error) {
	delay := 5 * time.Millisecond
	for {
		if orig.Pending == "" {
			return orig.model(), false, nil
		}
		if orig.PendingAt == nil || time.Since(*orig.PendingAt) > s.opts.RepairGrace {
			token := bson.NewObjectID().Hex()
			now := ms(time.Now())
			unlock := s.locks.lock(messageKey(orig.ID))
			res, err := s.messages.UpdateOne(ctx,
				bson.D{{Key: "_id", Value: orig.ID}, {Key: "pending", Value: orig.Pending}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: token}, {Key: "pendingAt", Value: now}}}})
			unlock()
			if err != nil {
				return nil, false, mapErr(err)
			}
			if res.MatchedCount == 1 {
				orig.Pending, orig.PendingAt = token, &now
				return s.finishClaim(ctx, orig, token, false)
			}
		}
		select {
		case <-ctx.Done():
			return nil, false, mapErr(ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
		var cur messageDoc
		if err := s.messages.FindOne(ctx, byID(orig.ID)).Decode(&cur); err != nil {
			// Gone: the claim was withdrawn because its chat does not exist.
			return nil, false, mapErr(err)
		}
		*orig = cur
	}
}

// fillHole writes a tombstone into a seq this call reserved but could not use, so that
// readers do not see a gap. It is best effort: a duplicate key means the seq is used after
// all (the failed write did land), and any other failure is left to the sweep's repair.
func (s *Store) fillHole(ctx context.Context, chat bson.ObjectID, seq int64, sender bson.ObjectID) {
	dctx, cancel := s.detached(ctx)
	defer cancel()
	now := ms(time.Now())
	if err := s.insertTombstone(dctx, chat, seq, sender, now); err != nil {
		s.log.Warn().Err(err).Str("chat", chat.Hex()).Int64("seq", seq).
			Msg("could not fill an unused seq yet; retrying every second")
		s.holes.add(chat, seq, sender)
	}
}

func (s *Store) insertTombstone(ctx context.Context, chat bson.ObjectID, seq int64, sender bson.ObjectID, at time.Time) error {
	t := messageDoc{
		ID: bson.NewObjectID(), ChatID: chat, Sender: sender, Seq: seq,
		Deleted: true, Tombstone: true, CreatedAt: at, UpdatedAt: ms(time.Now()),
	}
	_, err := s.messages.InsertOne(ctx, t)
	if err != nil && !isDup(err) {
		return mapErr(err)
	}
	return nil
}

// MessageByID implements models.Messages.
func (s *Store) MessageByID(ctx context.Context, id string) (*models.Message, error) {
	mid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	var d messageDoc
	if err := s.messages.FindOne(ctx, bson.D{{Key: "_id", Value: mid}, notPending()}).Decode(&d); err != nil {
		return nil, mapErr(err)
	}
	return d.model(), nil
}

// MessagesByIDs implements models.Messages.
func (s *Store) MessagesByIDs(ctx context.Context, ids []string) ([]*models.Message, error) {
	list := oids(ids)
	if len(list) == 0 {
		return nil, nil
	}
	return s.findMessages(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: list}}}, notPending()}, nil)
}

func (s *Store) findMessages(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*models.Message, error) {
	cur, err := s.messages.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	out := make([]*models.Message, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, nil
}

// ListMessages implements models.Messages. It asks for one message more than the page
// and decides hasMore from what came back, never from seq arithmetic, so a hole (see
// above) cannot make a page short or hasMore wrong.
func (s *Store) ListMessages(ctx context.Context, chatID string, q models.MessageQuery) ([]*models.Message, bool, error) {
	cid, ok := oid(chatID)
	if !ok {
		return nil, false, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultMessageLimit
	}
	seq := bson.D{{Key: "$gt", Value: max(q.After, 0)}} // > 0 also skips claims' placeholders
	if q.Before > 0 {
		seq = append(seq, bson.E{Key: "$lt", Value: q.Before})
	}
	// With after, the page is the oldest messages past it; otherwise the newest ones.
	ascending := q.After != 0 // a negative After means "from the first message"
	dir := -1
	if ascending {
		dir = 1
	}
	page, err := s.findMessages(ctx, bson.D{{Key: "chatId", Value: cid}, {Key: "seq", Value: seq}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: dir}}).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	hasMore := len(page) > limit
	if hasMore {
		page = page[:limit]
	}
	if !ascending {
		slices.Reverse(page)
	}
	return page, hasMore, nil
}

// LastMessages implements models.Messages. The message holding each chat's lastSeq is
// fetched in one query; a chat whose lastSeq has no message (a hole at the top, or an
// insert in flight) falls back to a query for its highest seq.
func (s *Store) LastMessages(ctx context.Context, chatIDs []string) (map[string]*models.Message, error) {
	out := map[string]*models.Message{}
	ids := oids(chatIDs)
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.chats.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "lastSeq", Value: bson.D{{Key: "$gt", Value: 0}}}},
		options.Find().SetProjection(bson.D{{Key: "lastSeq", Value: 1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	var chats []struct {
		ID      bson.ObjectID `bson:"_id"`
		LastSeq int64         `bson:"lastSeq"`
	}
	if err := cur.All(ctx, &chats); err != nil {
		return nil, mapErr(err)
	}
	if len(chats) == 0 {
		return out, nil
	}
	pairs := make(bson.A, len(chats))
	for i, c := range chats {
		pairs[i] = bson.D{{Key: "chatId", Value: c.ID}, {Key: "seq", Value: c.LastSeq}}
	}
	found, err := s.findMessages(ctx, bson.D{{Key: "$or", Value: pairs}}, nil)
	if err != nil {
		return nil, err
	}
	for _, m := range found {
		out[m.ChatID] = m
	}
	for _, c := range chats {
		if _, ok := out[c.ID.Hex()]; ok {
			continue
		}
		var d messageDoc
		err := s.messages.FindOne(ctx, bson.D{{Key: "chatId", Value: c.ID}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: 0}}}},
			options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}})).Decode(&d)
		switch {
		case err == nil:
			out[c.ID.Hex()] = d.model()
		case !errors.Is(err, mongo.ErrNoDocuments):
			return nil, mapErr(err)
		}
	}
	return out, nil
}

// updateMessage applies one atomic update to a complete message and returns the result.
func (s *Store) updateMessage(ctx context.Context, id string, update bson.D) (*models.Message, error) {
	return s.updateMessageWhere(ctx, id, bson.E{}, update)
}

// updateMessageWhere is updateMessage for a message that also matches cond (none when
// cond.Key is empty).
func (s *Store) updateMessageWhere(ctx context.Context, id string, cond bson.E, update bson.D) (*models.Message, error) {
	mid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	filter := bson.D{{Key: "_id", Value: mid}, notPending()}
	if cond.Key != "" {
		filter = append(filter, cond)
	}
	var d messageDoc
	defer s.locks.lock(messageKey(mid))()
	err := s.messages.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err)
	}
	return d.model(), nil
}

// EditMessage implements models.Messages: one update sets the text, its search words
// (so a search finds the message by what it says now, never by what it said) and the
// mentions (or removes the field when there are none); a deleted message does not match.
func (s *Store) EditMessage(ctx context.Context, id, text string, mentions []string, at time.Time) (*models.Message, error) {
	list, err := mentionIDs(mentions)
	if err != nil {
		return nil, err
	}
	set := bson.D{
		{Key: "text", Value: text}, {Key: "searchWords", Value: searchWordsValue(text)},
		{Key: "editedAt", Value: ms(at)}, {Key: "updatedAt", Value: ms(at)},
	}
	update := bson.D{}
	if len(list) > 0 {
		set = append(set, bson.E{Key: "mentions", Value: list})
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "mentions", Value: ""}}})
	}
	update = append(bson.D{{Key: "$set", Value: set}}, update...)
	return s.updateMessageWhere(ctx, id, bson.E{Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}, update)
}

// DeleteMessage implements models.Messages: the message keeps its id and seq. Its
// attachments are marked for removal first, so a crash at any point after leaves them
// to the sweep, never attached to a deleted message; then the message is marked, then
// the attachments' bytes and records go (attachments.go).
func (s *Store) DeleteMessage(ctx context.Context, id string, at time.Time) (*models.Message, error) {
	mid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	removed, err := s.markMessageAttachments(ctx, mid)
	if err != nil {
		return nil, err
	}
	m, err := s.updateMessage(ctx, id, bson.D{
		{Key: "$set", Value: bson.D{{Key: "deleted", Value: true}, {Key: "text", Value: ""}, {Key: "updatedAt", Value: ms(at)}}},
		{Key: "$unset", Value: bson.D{{Key: "reactions", Value: ""}, {Key: "reactionEmoji", Value: ""}, {Key: "mentions", Value: ""}, {Key: "searchWords", Value: ""}}},
	})
	if err != nil {
		return nil, err
	}
	if len(removed) > 0 {
		dctx, cancel := s.detached(ctx)
		defer cancel()
		if _, err := s.removeAttachments(dctx, removed); err != nil {
			s.log.Warn().Err(err).Str("message", id).Msg("could not remove a deleted message's attachments yet; the sweep will")
		}
	}
	return m, nil
}

// CountUnread implements models.Messages (a count over the {chatId, seq} index range).
func (s *Store) CountUnread(ctx context.Context, chatID, userID string, afterSeq int64) (int, error) {
	cid, ok := oid(chatID)
	if !ok {
		return 0, nil
	}
	filter := bson.D{
		{Key: "chatId", Value: cid},
		{Key: "seq", Value: bson.D{{Key: "$gt", Value: max(afterSeq, 0)}}},
		{Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}},
	}
	if uid, ok := oid(userID); ok {
		filter = append(filter, bson.E{Key: "sender", Value: bson.D{{Key: "$ne", Value: uid}}})
	}
	n, err := s.messages.CountDocuments(ctx, filter)
	return int(n), mapErr(err)
}

// UnreadMentions implements models.Messages: one aggregation whose $or has a branch per
// chat, {mentions: user, chatId, seq > mark}, each a range of the multikey index {mentions,
// chatId, seq}; deleted messages hold no mentions.
func (s *Store) UnreadMentions(ctx context.Context, userID string, after map[string]int64) (map[string]int, error) {
	out := map[string]int{}
	uid, ok := oid(userID)
	if !ok || len(after) == 0 {
		return out, nil
	}
	branches := make(bson.A, 0, len(after))
	for chatID, seq := range after {
		if cid, ok := oid(chatID); ok {
			branches = append(branches, bson.D{
				{Key: "mentions", Value: uid}, {Key: "chatId", Value: cid},
				{Key: "seq", Value: bson.D{{Key: "$gt", Value: max(seq, 0)}}}, // > 0 also skips claims' placeholders
			})
		}
	}
	if len(branches) == 0 {
		return out, nil
	}
	cur, err := s.messages.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "$or", Value: branches}, {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$chatId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, mapErr(err)
	}
	var groups []struct {
		ChatID bson.ObjectID `bson:"_id"`
		N      int64         `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return nil, mapErr(err)
	}
	for _, g := range groups {
		if g.N > 0 {
			out[g.ChatID.Hex()] = int(g.N)
		}
	}
	return out, nil
}
