package mongo

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/parley-chat/parley/models"
)

// Tests of what the contract suite cannot see: the crash windows between the steps of
// multi-document writes, and the fallbacks for what FerretDB refuses.

func mustUsers(t *testing.T, s *Store, handles ...string) []string {
	t.Helper()
	ids := make([]string, len(handles))
	for i, h := range handles {
		at := time.Now()
		u := &models.User{ID: models.NewID(), Handle: h, Name: h, CreatedAt: at, UpdatedAt: at}
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		ids[i] = u.ID
	}
	return ids
}

func mustGroup(t *testing.T, s *Store, members ...string) *models.Chat {
	t.Helper()
	at := time.Now()
	name := "g"
	c := &models.Chat{ID: models.NewID(), Type: models.ChatGroup, Name: &name, Participants: members,
		Admins: members[:1], CreatedBy: members[0], CreatedAt: at, UpdatedAt: at, LastActivity: at}
	if err := s.CreateChat(t.Context(), c); err != nil {
		t.Fatalf("CreateChat: %v", err)
	}
	return c
}

func mustSend(t *testing.T, s *Store, chat, sender string) *models.Message {
	t.Helper()
	m, created, err := s.InsertMessage(t.Context(), &models.Message{ID: models.NewID(), ChatID: chat, SenderID: sender, Text: "m", CreatedAt: time.Now()})
	if err != nil || !created {
		t.Fatalf("InsertMessage: %v (created %v)", err, created)
	}
	return m
}

func seqsOf(msgs []*models.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func listSeqs(t *testing.T, s *Store, chat string, q models.MessageQuery) ([]int64, bool, []*models.Message) {
	t.Helper()
	msgs, more, err := s.ListMessages(t.Context(), chat, q)
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	return seqsOf(msgs), more, msgs
}

// A process that dies between reserving a seq and storing its message leaves a hole.
// Reads stay right around it, and RepairSeqHoles fills it once it is older than the grace.
func TestSeqHoleRepair(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, Options{RepairGrace: 50 * time.Millisecond})
	ids := mustUsers(t, s, "ann", "ben")
	chat := mustGroup(t, s, ids...)
	cid, _ := oid(chat.ID)
	for range 3 {
		mustSend(t, s, chat.ID, ids[0])
	}
	crash := func() int64 { // reserve a seq and "die" before inserting
		seq, err := s.reserveSeq(ctx, cid, time.Now())
		if err != nil {
			t.Fatalf("reserveSeq: %v", err)
		}
		return seq
	}
	if h := crash(); h != 4 {
		t.Fatalf("reserved %d, want 4", h)
	}
	mustSend(t, s, chat.ID, ids[1])
	mustSend(t, s, chat.ID, ids[1])
	crash() // 7, a hole at the top

	// Pages are cut from what the query returns, so limit and hasMore stay right.
	for _, tc := range []struct {
		q    models.MessageQuery
		want []int64
		more bool
	}{
		{models.MessageQuery{Limit: 3}, []int64{3, 5, 6}, true},
		{models.MessageQuery{Limit: 5}, []int64{1, 2, 3, 5, 6}, false},
		{models.MessageQuery{After: 3, Limit: 2}, []int64{5, 6}, false},
		{models.MessageQuery{After: 2, Limit: 2}, []int64{3, 5}, true},
		{models.MessageQuery{Before: 6, Limit: 2}, []int64{3, 5}, true},
	} {
		got, more, _ := listSeqs(t, s, chat.ID, tc.q)
		if !slices.Equal(got, tc.want) || more != tc.more {
			t.Errorf("ListMessages(%+v) = %v, %v; want %v, %v", tc.q, got, more, tc.want, tc.more)
		}
	}
	last, err := s.LastMessages(ctx, []string{chat.ID})
	if err != nil || last[chat.ID] == nil || last[chat.ID].Seq != 6 {
		t.Fatalf("LastMessages with a hole at the top = %+v, %v; want seq 6", last[chat.ID], err)
	}

	// A store with a long grace leaves young holes alone (they may be inserts in flight).
	patient := openStore(t, Options{Database: s.Database(), RepairGrace: time.Hour})
	if n, err := patient.RepairSeqHoles(ctx, chat.ID); err != nil || n != 0 {
		t.Fatalf("RepairSeqHoles within the grace = %d, %v; want 0", n, err)
	}

	time.Sleep(100 * time.Millisecond)
	n, err := s.RepairSeqHoles(ctx, chat.ID)
	if err != nil || n != 2 {
		t.Fatalf("RepairSeqHoles = %d, %v; want 2", n, err)
	}
	got, more, msgs := listSeqs(t, s, chat.ID, models.MessageQuery{Limit: 50})
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7}) || more {
		t.Fatalf("after repair: %v, %v; want 1..7", got, more)
	}
	for _, m := range msgs {
		tomb := m.Seq == 4 || m.Seq == 7
		if m.Deleted != tomb || (tomb && m.Text != "") {
			t.Errorf("seq %d: deleted %v text %q", m.Seq, m.Deleted, m.Text)
		}
	}
	if unread, _ := s.CountUnread(ctx, chat.ID, ids[1], 0); unread != 3 {
		t.Errorf("CountUnread counts tombstones: %d, want 3", unread)
	}
	if n, err := s.RepairSeqHoles(ctx, chat.ID); err != nil || n != 0 {
		t.Fatalf("second RepairSeqHoles = %d, %v; want 0", n, err)
	}
	// The next message takes the next seq.
	if m := mustSend(t, s, chat.ID, ids[0]); m.Seq != 8 {
		t.Fatalf("next seq = %d, want 8", m.Seq)
	}

	// The sweep finds chats with holes by itself (and only once per reservation).
	crash() // 9
	mustSend(t, s, chat.ID, ids[0])
	time.Sleep(100 * time.Millisecond)
	if err := s.Sweep(ctx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	got, _, _ = listSeqs(t, s, chat.ID, models.MessageQuery{After: 7, Limit: 50})
	if !slices.Equal(got, []int64{8, 9, 10}) {
		t.Fatalf("after the sweep: %v, want 8 9 10", got)
	}
}

// A late insert whose seq the repair filled meanwhile takes the next free seq.
func TestInsertAfterRepairTookItsSeq(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, Options{})
	ids := mustUsers(t, s, "ann")
	chat := mustGroup(t, s, ids...)
	cid, _ := oid(chat.ID)
	sender, _ := oid(ids[0])
	mustSend(t, s, chat.ID, ids[0])
	// The seq the next reservation returns (2) is already a tombstone, as if the repair
	// had filled it while this insert was slow.
	if err := s.insertTombstone(ctx, cid, 2, sender, time.Now()); err != nil {
		t.Fatal(err)
	}
	m := mustSend(t, s, chat.ID, ids[0])
	if m.Seq != 3 {
		t.Fatalf("seq = %d, want 3", m.Seq)
	}
	m2, created, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "x", ClientID: new("k"), CreatedAt: time.Now()})
	if err != nil || !created || m2.Seq != 4 {
		t.Fatalf("claimed insert: %+v %v %v, want seq 4", m2, created, err)
	}
}

// A send with a clientId whose process died after the claim and before the seq: the
// claim is invisible, a retry of the same send takes it over after the grace and returns
// it as the original, and without a retry the sweep finishes it.
func TestAbandonedClaim(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, Options{RepairGrace: 100 * time.Millisecond})
	ids := mustUsers(t, s, "ann", "ben")
	chat := mustGroup(t, s, ids...)
	cid, _ := oid(chat.ID)
	sender, _ := oid(ids[0])
	claim := func(clientID string, chat bson.ObjectID) bson.ObjectID {
		t.Helper()
		at := ms(time.Now())
		d := messageDoc{ID: bson.NewObjectID(), ChatID: chat, Sender: sender, Text: "lost " + clientID,
			ClientID: &clientID, ClientKey: clientKey(sender, chat, clientID), Seq: placeholderSeq(),
			Pending: "dead-process", PendingAt: &at, CreatedAt: at, UpdatedAt: at}
		if _, err := s.messages.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}

	id1 := claim("c1", cid)
	if _, err := s.MessageByID(ctx, id1.Hex()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("MessageByID of a claim: %v, want ErrNotFound", err)
	}
	if got, _, _ := listSeqs(t, s, chat.ID, models.MessageQuery{Limit: 10}); len(got) != 0 {
		t.Fatalf("a claim is listed: %v", got)
	}
	start := time.Now()
	m, created, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "retry", ClientID: new("c1"), CreatedAt: time.Now()})
	if err != nil || created || m.ID != id1.Hex() || m.Seq != 1 || m.Text != "lost c1" {
		t.Fatalf("retry of an abandoned send = %+v, created %v, %v; want the original with seq 1", m, created, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the retry waited %s", d)
	}

	id2 := claim("c2", cid)
	orphan := claim("c3", bson.NewObjectID()) // its chat does not exist
	time.Sleep(150 * time.Millisecond)
	if err := s.Sweep(ctx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	got, err := s.MessageByID(ctx, id2.Hex())
	if err != nil || got.Seq != 2 {
		t.Fatalf("abandoned claim after the sweep: %+v, %v; want seq 2", got, err)
	}
	if n, _ := s.messages.CountDocuments(ctx, byID(orphan)); n != 0 {
		t.Errorf("the claim of a message to a missing chat survived the sweep")
	}
}

// An acceptance whose friendship write never happened is completed by a retry and by
// the sweep, and a friendship ended on purpose is not brought back.
func TestInterruptedAcceptance(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, Options{RepairGrace: 50 * time.Millisecond})
	ids := mustUsers(t, s, "ann", "ben", "cat", "dan")
	crashAccept := func(from, to string) string {
		t.Helper()
		at := time.Now()
		r := &models.FriendRequest{ID: models.NewID(), FromID: from, ToID: to, Status: models.RequestPending, CreatedAt: at, UpdatedAt: at}
		if err := s.CreateFriendRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		rid, _ := oid(r.ID)
		// The first write of ResolveFriendRequest, and then nothing.
		_, err := s.requests.UpdateOne(ctx, byID(rid), bson.D{
			{Key: "$set", Value: bson.D{{Key: "status", Value: models.RequestAccepted}, {Key: "friendshipPending", Value: true}, {Key: "updatedAt", Value: ms(at)}}},
			{Key: "$unset", Value: bson.D{{Key: "pendingKey", Value: ""}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	friends := func(a, b string) bool {
		ok, err := s.AreFriends(ctx, a, b)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	r1 := crashAccept(ids[0], ids[1])
	if friends(ids[0], ids[1]) {
		t.Fatal("friends before the friendship write")
	}
	if _, err := s.ResolveFriendRequest(ctx, r1, models.RequestAccepted, time.Now()); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("retried accept: %v, want ErrConflict", err)
	}
	if !friends(ids[1], ids[0]) {
		t.Fatal("the retried accept did not complete the friendship")
	}

	crashAccept(ids[2], ids[3])
	crashAccept(ids[0], ids[2])
	if _, err := s.RemoveFriend(ctx, ids[0], ids[2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Sweep(ctx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if !friends(ids[2], ids[3]) {
		t.Error("the sweep did not complete an interrupted acceptance")
	}
	if friends(ids[0], ids[2]) {
		t.Error("the sweep brought back a friendship that was removed")
	}
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// FerretDB refuses TTL and partial indexes: Open says so once and falls back, and the
// sweep goroutine deletes expired notifications.
func TestRefusedIndexFallbacks(t *testing.T) {
	ctx := t.Context()
	var logs syncBuffer
	s, err := Open(ctx, Options{URI: ferret.URI(), Database: freshDB(), SweepInterval: 50 * time.Millisecond,
		Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.db.Drop(ctx); _ = s.Close() }()
	if s.caps.ttl || s.caps.partial {
		t.Fatalf("capabilities on FerretDB = %+v, want no TTL and no partial indexes", s.caps)
	}
	for _, want := range []string{"refuses TTL indexes", "refuses partial indexes"} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("log has %q %d times, want once:\n%s", want, n, logs.String())
		}
	}
	var specs []bson.M
	cur, err := s.messages.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	fallback := false
	for _, ix := range specs {
		// FerretDB accepts "sparse" but does not list it: its SQLite index leaves out
		// documents without the field anyway (SQL NULLs never collide).
		if ix["name"] == "clientKey_1" && ix["unique"] == true {
			fallback = true
		}
	}
	if !fallback {
		t.Errorf("no unique clientKey index among %v", specs)
	}

	ids := mustUsers(t, s, "ann")
	at := time.Now()
	old := &models.Notification{ID: models.NewID(), UserID: ids[0], Type: models.NotifyChatAdded, Data: map[string]any{}, CreatedAt: at.Add(-models.NotificationTTL - time.Hour)}
	fresh := &models.Notification{ID: models.NewID(), UserID: ids[0], Type: models.NotifyChatAdded, Data: map[string]any{}, CreatedAt: at}
	for _, n := range []*models.Notification{old, fresh} {
		if err := s.CreateNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	oldID, _ := oid(old.ID)
	freshID, _ := oid(fresh.ID)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.notifications.CountDocuments(ctx, byID(oldID))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweep did not delete the expired notification")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := s.notifications.CountDocuments(ctx, byID(freshID)); n != 1 {
		t.Error("the sweep deleted a fresh notification")
	}

	// Indexes are created idempotently: a second Open of the same database succeeds and
	// adds none.
	s2, err := Open(ctx, Options{URI: ferret.URI(), Database: s.Database(), SweepInterval: -1})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	cur, err = s.messages.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var again []bson.M
	if err := cur.All(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if len(again) != len(specs) {
		t.Errorf("messages indexes after a second Open: %d, want %d", len(again), len(specs))
	}
}
