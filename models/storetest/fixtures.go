package storetest

import (
	"testing"

	"github.com/parley-chat/parley/models"
)

// newUser creates a user with the given handle and a name derived from it.
func newUser(t *testing.T, s models.Store, handle string) *models.User {
	t.Helper()
	return newUserNamed(t, s, handle, "Name of "+handle)
}

func newUserNamed(t *testing.T, s models.Store, handle, name string) *models.User {
	t.Helper()
	at := now()
	u := &models.User{
		ID: models.NewID(), Handle: handle, Name: name,
		PasswordHash: "hash-of-" + handle, CreatedAt: at, UpdatedAt: at,
	}
	fatalIf(t, s.CreateUser(t.Context(), u), "CreateUser "+handle)
	return u
}

// newUsers creates one user per handle and returns their ids.
func newUsers(t *testing.T, s models.Store, handles ...string) []string {
	t.Helper()
	ids := make([]string, len(handles))
	for i, h := range handles {
		ids[i] = newUser(t, s, h).ID
	}
	return ids
}

// newGroup creates a group of members (the first is the creator and only admin), with
// its last activity at its creation.
func newGroup(t *testing.T, s models.Store, members ...string) *models.Chat {
	t.Helper()
	at := now()
	c := &models.Chat{
		ID: models.NewID(), Type: models.ChatGroup, Name: ptr("group"),
		Participants: members, Admins: []string{members[0]}, CreatedBy: members[0],
		CreatedAt: at, UpdatedAt: at, LastActivity: at,
	}
	fatalIf(t, s.CreateChat(t.Context(), c), "CreateChat group")
	return c
}

// directChat builds (without storing) the direct chat of a and b, created by a.
func directChat(a, b string) *models.Chat {
	at := now()
	return &models.Chat{
		ID: models.NewID(), Type: models.ChatDirect, Participants: []string{a, b},
		CreatedBy: a, CreatedAt: at, UpdatedAt: at, LastActivity: at,
	}
}

func newDirect(t *testing.T, s models.Store, a, b string) *models.Chat {
	t.Helper()
	c := directChat(a, b)
	fatalIf(t, s.CreateChat(t.Context(), c), "CreateChat direct")
	return c
}

// send inserts a new message (no client id) and checks that it was created.
func send(t *testing.T, s models.Store, chatID, sender, text string) *models.Message {
	t.Helper()
	m := &models.Message{ID: models.NewID(), ChatID: chatID, SenderID: sender, Text: text, CreatedAt: now()}
	stored, created, err := s.InsertMessage(t.Context(), m)
	fatalIf(t, err, "InsertMessage")
	if !created {
		t.Fatalf("InsertMessage without clientId: created = false")
	}
	return stored
}

// sendN inserts n messages from senders in turn.
func sendN(t *testing.T, s models.Store, chatID string, n int, senders ...string) []*models.Message {
	t.Helper()
	out := make([]*models.Message, n)
	for i := range out {
		out[i] = send(t, s, chatID, senders[i%len(senders)], "message")
	}
	return out
}

func messageSeqs(msgs []*models.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func messageIDs(msgs []*models.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func chatIDs(cs []*models.Chat) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func userIDs(us []*models.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func userHandles(us []*models.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Handle
	}
	return out
}

func requestIDs(rs []*models.FriendRequest) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func notificationIDs(ns []*models.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
