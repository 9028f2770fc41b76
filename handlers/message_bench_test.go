package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/sqlite"
	"github.com/parley-chat/parley/utils"
)

type nopEmitter struct{}

func (nopEmitter) ToUser(string, string, string, any)           {}
func (nopEmitter) ToChat(string, string, string, any)           {}
func (nopEmitter) ToChatExceptUser(string, string, string, any) {}
func (nopEmitter) JoinChat(string, string)                      {}
func (nopEmitter) LeaveChat(string, string)                     {}

// BenchmarkMessageNew measures the whole message:new handler (strict decode, membership
// from the read cache, the SQLite write, rendering) one send at a time, in a group of 50
// members who are all connected (so no notifications are written). The variants differ
// only in the text: none has an '@', one has an '@' that is no mention (an e-mail
// address), one mentions two members.
func BenchmarkMessageNew(b *testing.B) {
	filler := strings.Repeat("lorem ipsum ", 8)
	for _, tc := range []struct{ name, text string }{
		{"plain", filler + "no mention here"},
		{"at-no-mention", filler + "write to ops@example.com"},
		{"two-mentions", filler + "@member07 and @Member31, look"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ev, caller, chatID := benchGroup(b)
			raw, _ := json.Marshal(map[string]any{"chatId": chatID, "text": tc.text})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ev.Handle(ctx, caller, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchGroup opens a fresh store with a group of 50 connected members and returns the
// message:new event, the caller (the first member) and the chat id.
func benchGroup(b *testing.B) (handlers.Event, handlers.Caller, string) {
	store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "parley.db"), sqlite.Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	presence := utils.NewPresence(time.Second)
	b.Cleanup(presence.Close)
	h := handlers.New(handlers.Deps{Store: store, Emit: nopEmitter{}, Presence: presence, Log: zerolog.Nop()})
	var ev handlers.Event
	for _, e := range h.Events() {
		if e.Name == "message:new" {
			ev = e
		}
	}
	ctx := context.Background()
	now := time.Now().UTC()
	var members []string
	for i := range 50 {
		u := &models.User{ID: models.NewID(), Handle: fmt.Sprintf("member%02d", i), Name: fmt.Sprintf("Member %d", i), CreatedAt: now, UpdatedAt: now}
		if err := store.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		members = append(members, u.ID)
		presence.Connect(u.ID)
	}
	chat := &models.Chat{ID: models.NewID(), Type: models.ChatGroup, Name: new(string), Participants: members,
		Admins: members[:1], CreatedBy: members[0], CreatedAt: now, UpdatedAt: now, LastActivity: now}
	if err := store.CreateChat(ctx, chat); err != nil {
		b.Fatal(err)
	}
	return ev, handlers.Caller{UserID: members[0], SocketID: "s0"}, chat.ID
}
