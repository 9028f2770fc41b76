// Package storetest is the contract suite that every models.Store implementation runs.
//
// It checks only what models/store.go and PROTOCOL.md promise, never how a store keeps its
// data, so the SQLite and the MongoDB stores run exactly the same tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) models.Store { return openFreshStore(t) })
//	}
//
// newStore must return a fresh, empty store and register its own cleanup. The suite is
// synchronous: it needs no timers and never sleeps.
package storetest

import (
	"testing"

	"github.com/parley-chat/parley/models"
)

// storeTest is one subtest; it gets a fresh store of its own.
type storeTest struct {
	name string
	run  func(t *testing.T, s models.Store)
}

// Run runs the whole contract suite against the stores newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) models.Store) {
	groups := []struct {
		name  string
		tests []storeTest
	}{
		{"Store", storeTests},
		{"Users", userTests},
		{"UserSearch", searchTests},
		{"Chats", chatTests},
		{"ChatList", chatListTests},
		{"Membership", membershipTests},
		{"Mutes", muteTests},
		{"Messages", messageTests},
		{"MessageList", messageListTests},
		{"MessageChanges", messageChangeTests},
		{"Reactions", reactionTests},
		{"Mentions", mentionTests},
		{"MessageSearch", messageSearchTests},
		{"ReadMarks", readMarkTests},
		{"FriendRequests", friendRequestTests},
		{"Friends", friendTests},
		{"Notifications", notificationTests},
		{"NotificationExpiry", expiryTests},
		{"Attachments", attachmentTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newStore(t))
				})
			}
		})
	}
}

var storeTests = []storeTest{
	{"Ping", testPing},
	{"Name", testName},
}

func testPing(t *testing.T, s models.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testName(t *testing.T, s models.Store) {
	if n := s.Name(); n != "sqlite" && n != "mongodb" {
		t.Fatalf(`Name() = %q, want "sqlite" or "mongodb"`, n)
	}
}
