package storetest

import (
	"testing"

	"github.com/parley-chat/parley/models"
)

var friendTests = []storeTest{
	{"RemoveFriend", testRemoveFriend},
	{"Refriend", testRefriend},
	{"Block", testBlock},
	{"MalformedIDs", testFriendsMalformed},
}

// befriend makes a and b friends through an accepted request.
func befriend(t *testing.T, s models.Store, a, b string) {
	t.Helper()
	r := newRequest(t, s, a, b, now())
	_, err := s.ResolveFriendRequest(t.Context(), r.ID, models.RequestAccepted, now())
	fatalIf(t, err, "ResolveFriendRequest accepted")
}

func removeFriend(t *testing.T, s models.Store, a, b string, want bool) {
	t.Helper()
	got, err := s.RemoveFriend(t.Context(), a, b)
	fatalIf(t, err, "RemoveFriend")
	equal(t, "RemoveFriend reports a friendship", got, want)
}

func testRemoveFriend(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	befriend(t, s, a, b)
	befriend(t, s, c, a)
	friendIDs(t, s, a, b, c)

	removeFriend(t, s, b, a, true) // either order
	checkFriends(t, s, a, b, false)
	checkFriends(t, s, a, c, true)
	friendIDs(t, s, a, c)
	friendIDs(t, s, b)
	removeFriend(t, s, a, b, false)
	removeFriend(t, s, a, d, false)
	removeFriend(t, s, a, c, true)
	friendIDs(t, s, a)
	friendIDs(t, s, c)
}

// Friends who parted can become friends again.
func testRefriend(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	befriend(t, s, a, b)
	removeFriend(t, s, a, b, true)
	befriend(t, s, b, a)
	checkFriends(t, s, a, b, true)
	friendIDs(t, s, a, b)
	friendIDs(t, s, b, a)
}

func testBlock(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	blocked := func(blocker, target string, want bool) {
		t.Helper()
		got, err := s.IsBlocked(ctx, blocker, target)
		fatalIf(t, err, "IsBlocked")
		equal(t, "IsBlocked", got, want)
	}
	blockedIDs := func(blocker string, want ...string) {
		t.Helper()
		got, err := s.BlockedIDs(ctx, blocker)
		fatalIf(t, err, "BlockedIDs")
		sameSet(t, "BlockedIDs", got, want)
	}

	blocked(a, b, false)
	blockedIDs(a)
	fatalIf(t, s.Block(ctx, a, b, now()), "Block")
	fatalIf(t, s.Block(ctx, a, b, now()), "Block again (idempotent)")
	blocked(a, b, true)
	blocked(b, a, false) // directional
	blockedIDs(a, b)
	blockedIDs(b)
	fatalIf(t, s.Block(ctx, a, c, now()), "Block c")
	fatalIf(t, s.Block(ctx, c, a, now()), "Block back")
	blockedIDs(a, b, c)
	blocked(c, a, true)

	fatalIf(t, s.Unblock(ctx, a, b), "Unblock")
	blocked(a, b, false)
	blockedIDs(a, c)
	fatalIf(t, s.Unblock(ctx, a, b), "Unblock again (idempotent)")
	fatalIf(t, s.Unblock(ctx, b, c), "Unblock of a block that never was")
	blocked(a, c, true)
	blocked(c, a, true)
	fatalIf(t, s.Block(ctx, a, b, now()), "Block after Unblock")
	blockedIDs(a, b, c)
}

// Malformed ids find nothing and cause no driver error.
func testFriendsMalformed(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a := ids[0]
	befriend(t, s, a, ids[1])
	fatalIf(t, s.Block(ctx, a, ids[1], now()), "Block")
	for _, id := range malformedIDs {
		ok, err := s.AreFriends(ctx, a, id)
		noRows(t, err, "AreFriends(a, "+id+")")
		equal(t, "AreFriends(a, "+id+")", ok, false)
		ok, err = s.RemoveFriend(ctx, a, id)
		noRows(t, err, "RemoveFriend(a, "+id+")")
		equal(t, "RemoveFriend(a, "+id+")", ok, false)
		ok, err = s.IsBlocked(ctx, a, id)
		noRows(t, err, "IsBlocked(a, "+id+")")
		equal(t, "IsBlocked(a, "+id+")", ok, false)
		ok, err = s.IsBlocked(ctx, id, a)
		noRows(t, err, "IsBlocked("+id+", a)")
		equal(t, "IsBlocked("+id+", a)", ok, false)
		list, err := s.FriendIDs(ctx, id)
		noRows(t, err, "FriendIDs("+id+")")
		equal(t, "len(FriendIDs("+id+"))", len(list), 0)
		list, err = s.BlockedIDs(ctx, id)
		noRows(t, err, "BlockedIDs("+id+")")
		equal(t, "len(BlockedIDs("+id+"))", len(list), 0)
		in, out, err := s.PendingRequests(ctx, id)
		noRows(t, err, "PendingRequests("+id+")")
		equal(t, "len(PendingRequests("+id+"))", len(in)+len(out), 0)
	}
	checkFriends(t, s, a, ids[1], true)
	friendIDs(t, s, a, ids[1])
}
