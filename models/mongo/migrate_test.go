package mongo

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// nodeDB seeds a fresh database with documents shaped the way a mongoose-based Node
// server leaves them: `__v`, no type/admins/createdBy/lastSeq on chats, no seq on
// messages, mixed-case handles, fields Parley does not know (readBy).
type nodeDB struct {
	name                      string
	alice, bob, bobby, carol  bson.ObjectID
	direct, group, named      bson.ObjectID
	directOrder, groupOrder   []bson.ObjectID // message ids in createdAt, then _id order
	pendingReq                bson.ObjectID
	directCreated, groupAdmin bson.ObjectID
}

func seedNodeDB(t *testing.T) *nodeDB {
	t.Helper()
	ctx := t.Context()
	client, err := mongo.Connect(options.Client().ApplyURI(ferret.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	n := &nodeDB{name: freshDB()}
	db := client.Database(n.name)
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	insert := func(coll string, docs ...bson.D) {
		t.Helper()
		for _, d := range docs {
			if _, err := db.Collection(coll).InsertOne(ctx, d); err != nil {
				t.Fatalf("seed %s: %v", coll, err)
			}
		}
	}
	n.alice, n.bob, n.bobby, n.carol = bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	user := func(id bson.ObjectID, handle, name string) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "name", Value: name}, {Key: "handle", Value: handle},
			{Key: "image", Value: nil}, {Key: "createdAt", Value: at(0)}, {Key: "updatedAt", Value: at(0)}, {Key: "__v", Value: int32(0)}}
	}
	insert(collUsers,
		user(n.alice, "Alice", "Alice"),
		user(n.bob, "bob", "Bob"),
		user(n.bobby, "BOB", "Bobby"), // lower-cases onto bob: a conflict to report
		user(n.carol, "CaRoL", "Carol"),
	)
	n.direct, n.group, n.named = bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	insert(collChats,
		bson.D{{Key: "_id", Value: n.direct}, {Key: "participants", Value: bson.A{n.bob, n.alice}},
			{Key: "lastActivity", Value: at(50)}, {Key: "createdAt", Value: at(1)}, {Key: "updatedAt", Value: at(50)}, {Key: "__v", Value: int32(0)}},
		bson.D{{Key: "_id", Value: n.group}, {Key: "participants", Value: bson.A{n.carol, n.alice, n.bob}}, {Key: "name", Value: "Trip"},
			{Key: "createdAt", Value: at(2)}, {Key: "updatedAt", Value: at(40)}, {Key: "__v", Value: int32(3)}},
		// Two participants but a name: a group.
		bson.D{{Key: "_id", Value: n.named}, {Key: "participants", Value: bson.A{n.alice, n.carol}}, {Key: "name", Value: "Pair"},
			{Key: "admins", Value: bson.A{n.carol}}, {Key: "lastActivity", Value: at(3)}, {Key: "createdAt", Value: at(3)}, {Key: "updatedAt", Value: at(3)}},
	)
	msg := func(id, chat, sender bson.ObjectID, minute int, text string) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "chatId", Value: chat}, {Key: "sender", Value: sender}, {Key: "text", Value: text},
			{Key: "replyTo", Value: nil}, {Key: "readBy", Value: bson.A{sender}},
			{Key: "createdAt", Value: at(minute)}, {Key: "updatedAt", Value: at(minute)}, {Key: "__v", Value: int32(0)}}
	}
	// Ids in creation order; inserted out of order, with a createdAt tie (10) broken by _id.
	d := make([]bson.ObjectID, 5)
	for i := range d {
		d[i] = bson.NewObjectID()
	}
	insert(collMessages,
		msg(d[3], n.direct, n.alice, 30, "fourth"),
		msg(d[0], n.direct, n.bob, 5, "first"),
		msg(d[2], n.direct, n.bob, 10, "third (tie, larger id)"),
		msg(d[4], n.direct, n.bob, 50, "fifth"),
		msg(d[1], n.direct, n.alice, 10, "second (tie, smaller id)"),
	)
	n.directOrder = d
	g := []bson.ObjectID{bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()}
	insert(collMessages,
		msg(g[2], n.group, n.carol, 40, "c"),
		msg(g[0], n.group, n.alice, 20, "a"),
		msg(g[1], n.group, n.bob, 25, "b"),
	)
	n.groupOrder = g
	n.pendingReq = bson.NewObjectID()
	insert(collFriendRequests,
		bson.D{{Key: "_id", Value: n.pendingReq}, {Key: "from", Value: n.alice}, {Key: "to", Value: n.carol}, {Key: "status", Value: "pending"},
			{Key: "createdAt", Value: at(7)}, {Key: "updatedAt", Value: at(7)}, {Key: "__v", Value: int32(0)}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "from", Value: n.bob}, {Key: "to", Value: n.carol}, {Key: "status", Value: "accepted"},
			{Key: "createdAt", Value: at(8)}, {Key: "updatedAt", Value: at(9)}, {Key: "__v", Value: int32(0)}},
	)
	return n
}

// snapshot is every document of the database, for "a second run changes nothing".
func snapshot(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	ctx := t.Context()
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, name := range names {
		cur, err := s.db.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			out[name] = append(out[name], d.String())
		}
	}
	return out
}

func TestMigrateNodeDatabase(t *testing.T) {
	ctx := t.Context()
	n := seedNodeDB(t)
	s := openStore(t, Options{Database: n.name})
	// Before the migration, message:search finds no Node-era message: they have no
	// searchWords (nor a seq, which every read of messages needs).
	search := func(text string) []string {
		t.Helper()
		got, err := s.SearchMessages(ctx, models.SearchQuery{UserID: n.alice.Hex(), Text: text, Limit: 10})
		if err != nil {
			t.Fatalf("SearchMessages(%q): %v", text, err)
		}
		var ids []string
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := search("tie"); len(got) != 0 {
		t.Errorf("search before the migration found %v", got)
	}

	r, err := Migrate(ctx, s)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	t.Logf("first run:\n%s", r)
	if r.HandlesLowered != 2 || len(r.HandleConflicts) != 1 || r.HandleConflicts[0].UserID != n.bobby.Hex() || r.HandleConflicts[0].TakenBy != n.bob.Hex() {
		t.Errorf("handles: lowered %d, conflicts %+v; want 2 and BOB→bob", r.HandlesLowered, r.HandleConflicts)
	}
	if r.ChatsTyped != 3 || r.MessagesSequenced != 8 || r.RequestsKeyed != 1 || r.MessagesIndexed != 8 {
		t.Errorf("report %+v", r)
	}
	// The migrated messages are searchable, newest first (a createdAt tie by _id).
	if got, want := search("TIE"), []string{n.directOrder[2].Hex(), n.directOrder[1].Hex()}; !slices.Equal(got, want) {
		t.Errorf("search after the migration: %v, want %v", got, want)
	}
	if got, want := search("c"), []string{n.groupOrder[2].Hex()}; !slices.Equal(got, want) {
		t.Errorf("search c: %v, want %v", got, want)
	}

	// Users: handles lower case (except the conflicting one), found by handle.
	for h, want := range map[string]bson.ObjectID{"alice": n.alice, "bob": n.bob, "carol": n.carol, "BOB": n.bobby} {
		u, err := s.UserByHandle(ctx, h)
		if err != nil || u.ID != want.Hex() {
			t.Errorf("UserByHandle(%q) = %v, %v; want %s", h, u, err, want.Hex())
		}
	}

	// Chats: typed, with creator, admins, lastSeq; the direct one found by its pair.
	dc, err := s.DirectChat(ctx, n.alice.Hex(), n.bob.Hex())
	if err != nil || dc.ID != n.direct.Hex() {
		t.Fatalf("DirectChat after migration: %v, %v", dc, err)
	}
	if dc.Type != models.ChatDirect || dc.LastSeq != 5 || dc.CreatedBy != n.bob.Hex() || len(dc.Admins) != 0 {
		t.Errorf("direct chat %+v", dc)
	}
	gc, err := s.ChatByID(ctx, n.group.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if gc.Type != models.ChatGroup || gc.LastSeq != 3 || gc.CreatedBy != n.carol.Hex() ||
		!slices.Equal(gc.Admins, []string{n.carol.Hex()}) || !gc.LastActivity.Equal(gc.UpdatedAt) {
		t.Errorf("group chat %+v", gc)
	}
	nc, err := s.ChatByID(ctx, n.named.Hex())
	if err != nil || nc.Type != models.ChatGroup || !slices.Equal(nc.Admins, []string{n.carol.Hex()}) {
		t.Errorf("named two-person chat: %+v, %v; want a group keeping its admins", nc, err)
	}

	// Messages: seq 1..N in createdAt, then _id, order, per chat.
	for chat, order := range map[bson.ObjectID][]bson.ObjectID{n.direct: n.directOrder, n.group: n.groupOrder} {
		msgs, more, err := s.ListMessages(ctx, chat.Hex(), models.MessageQuery{Limit: 50})
		if err != nil || more {
			t.Fatalf("ListMessages: %v %v", err, more)
		}
		var ids []string
		for i, m := range msgs {
			ids = append(ids, m.ID)
			if m.Seq != int64(i+1) {
				t.Errorf("chat %s: message %d has seq %d", chat.Hex(), i, m.Seq)
			}
		}
		var want []string
		for _, id := range order {
			want = append(want, id.Hex())
		}
		if !slices.Equal(ids, want) {
			t.Errorf("chat %s: messages in seq order %v, want createdAt/_id order %v", chat.Hex(), ids, want)
		}
	}
	// Node fields survive.
	var raw bson.M
	if err := s.messages.FindOne(ctx, byID(n.directOrder[0])).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["__v"]; !ok || raw["readBy"] == nil {
		t.Errorf("a Node field was lost: %v", raw)
	}
	// The pending request now blocks a duplicate.
	dup := &models.FriendRequest{ID: models.NewID(), FromID: n.alice.Hex(), ToID: n.carol.Hex(), Status: models.RequestPending, CreatedAt: time.Now()}
	if err := s.CreateFriendRequest(ctx, dup); err == nil {
		t.Error("a second pending request next to a migrated one was accepted")
	}

	// A second run changes nothing.
	before := snapshot(t, s)
	r2, err := Migrate(ctx, s)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if r2.Changes() != 0 {
		t.Errorf("second run changed %d documents: %+v", r2.Changes(), r2)
	}
	after := snapshot(t, s)
	for coll, docs := range before {
		if !slices.Equal(docs, after[coll]) {
			t.Errorf("second run changed collection %s", coll)
		}
	}

	// Parley continues the numbering.
	m, created, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: n.direct.Hex(), SenderID: n.alice.Hex(), Text: "hi from Parley", CreatedAt: time.Now()})
	if err != nil || !created || m.Seq != 6 {
		t.Fatalf("first Parley message: %+v %v %v; want seq 6", m, created, err)
	}
}
