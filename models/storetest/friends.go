package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var friendRequestTests = []storeTest{
	{"Create", testFriendRequestCreate},
	{"Accept", testFriendRequestAccept},
	{"DeclineAndCancel", testFriendRequestDeclineCancel},
	{"ConcurrentResolve", testFriendRequestConcurrentResolve},
	{"PendingRequests", testPendingRequests},
	{"Missing", testMissingFriendRequest},
}

// friendRequest builds (without storing) a pending request from → to created at.
func friendRequest(from, to string, at time.Time) *models.FriendRequest {
	return &models.FriendRequest{ID: models.NewID(), FromID: from, ToID: to, Status: models.RequestPending, CreatedAt: at, UpdatedAt: at}
}

func newRequest(t *testing.T, s models.Store, from, to string, at time.Time) *models.FriendRequest {
	t.Helper()
	r := friendRequest(from, to, at)
	fatalIf(t, s.CreateFriendRequest(t.Context(), r), "CreateFriendRequest")
	return r
}

func checkRequest(t *testing.T, what string, got, want *models.FriendRequest) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil request", what)
	}
	equal(t, what+".ID", got.ID, want.ID)
	equal(t, what+".FromID", got.FromID, want.FromID)
	equal(t, what+".ToID", got.ToID, want.ToID)
	equal(t, what+".Status", got.Status, want.Status)
	sameTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, what+".UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkFriends(t *testing.T, s models.Store, a, b string, want bool) {
	t.Helper()
	for _, p := range [][2]string{{a, b}, {b, a}} {
		got, err := s.AreFriends(t.Context(), p[0], p[1])
		fatalIf(t, err, "AreFriends")
		equal(t, "AreFriends", got, want)
	}
}

func friendIDs(t *testing.T, s models.Store, user string, want ...string) {
	t.Helper()
	got, err := s.FriendIDs(t.Context(), user)
	fatalIf(t, err, "FriendIDs")
	sameSet(t, "FriendIDs", got, want)
}

func testFriendRequestCreate(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	r := newRequest(t, s, a, b, now())
	got, err := s.FriendRequestByID(ctx, r.ID)
	fatalIf(t, err, "FriendRequestByID")
	checkRequest(t, "stored request", got, r)
	got, err = s.PendingRequest(ctx, a, b)
	fatalIf(t, err, "PendingRequest")
	checkRequest(t, "PendingRequest", got, r)
	_, err = s.PendingRequest(ctx, b, a)
	wantErr(t, err, models.ErrNotFound, "PendingRequest in the other direction")

	dup := friendRequest(a, b, now().Add(time.Second))
	wantErr(t, s.CreateFriendRequest(ctx, dup), models.ErrConflict, "second pending request a→b")
	_, err = s.FriendRequestByID(ctx, dup.ID)
	wantErr(t, err, models.ErrNotFound, "FriendRequestByID of the refused request")
	checkFriends(t, s, a, b, false)
}

func testFriendRequestAccept(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	r := newRequest(t, s, a, b, now())
	at := now().Add(time.Minute)
	got, err := s.ResolveFriendRequest(ctx, r.ID, models.RequestAccepted, at)
	fatalIf(t, err, "ResolveFriendRequest accepted")
	want := *r
	want.Status, want.UpdatedAt = models.RequestAccepted, at
	checkRequest(t, "accepted request", got, &want)
	stored, err := s.FriendRequestByID(ctx, r.ID)
	fatalIf(t, err, "FriendRequestByID")
	checkRequest(t, "stored accepted request", stored, &want)

	checkFriends(t, s, a, b, true)
	checkFriends(t, s, a, c, false)
	friendIDs(t, s, a, b)
	friendIDs(t, s, b, a)
	friendIDs(t, s, c)
	_, err = s.PendingRequest(ctx, a, b)
	wantErr(t, err, models.ErrNotFound, "PendingRequest after acceptance")

	for _, status := range []string{models.RequestDeclined, models.RequestAccepted, models.RequestCanceled} {
		_, err = s.ResolveFriendRequest(ctx, r.ID, status, at.Add(time.Minute))
		wantErr(t, err, models.ErrConflict, "resolving an accepted request as "+status)
	}
	stored, err = s.FriendRequestByID(ctx, r.ID)
	fatalIf(t, err, "FriendRequestByID")
	checkRequest(t, "accepted request after refused resolutions", stored, &want)
	checkFriends(t, s, a, b, true)
}

func testFriendRequestDeclineCancel(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	for _, status := range []string{models.RequestDeclined, models.RequestCanceled} {
		r := newRequest(t, s, a, b, now()) // a new request once the previous one is resolved
		at := now().Add(time.Minute)
		got, err := s.ResolveFriendRequest(ctx, r.ID, status, at)
		fatalIf(t, err, "ResolveFriendRequest "+status)
		want := *r
		want.Status, want.UpdatedAt = status, at
		checkRequest(t, status+" request", got, &want)
		checkFriends(t, s, a, b, false)
		friendIDs(t, s, a)
		_, err = s.PendingRequest(ctx, a, b)
		wantErr(t, err, models.ErrNotFound, "PendingRequest after "+status)
		_, err = s.ResolveFriendRequest(ctx, r.ID, models.RequestAccepted, at)
		wantErr(t, err, models.ErrConflict, "accepting a "+status+" request")
		checkFriends(t, s, a, b, false)
	}
}

// Accept, decline and cancel race: exactly one wins, the others get ErrConflict, and the
// friendship exists exactly when acceptance won.
func testFriendRequestConcurrentResolve(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	r := newRequest(t, s, ids[0], ids[1], now())
	statuses := []string{models.RequestAccepted, models.RequestDeclined, models.RequestCanceled, models.RequestAccepted, models.RequestDeclined, models.RequestCanceled}
	errs := make([]error, len(statuses))
	var wg sync.WaitGroup
	for i, st := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ResolveFriendRequest(ctx, r.ID, st, now())
		}()
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner != "":
			t.Errorf("two concurrent resolutions succeeded (%s and %s)", winner, statuses[i])
		case err == nil:
			winner = statuses[i]
		default:
			wantErr(t, err, models.ErrConflict, "losing concurrent resolution")
		}
	}
	if winner == "" {
		t.Fatalf("no concurrent resolution succeeded")
	}
	got, err := s.FriendRequestByID(ctx, r.ID)
	fatalIf(t, err, "FriendRequestByID")
	equal(t, "status after concurrent resolutions", got.Status, winner)
	checkFriends(t, s, ids[0], ids[1], winner == models.RequestAccepted)
}

func testPendingRequests(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "me", "xav", "yan", "zed", "wes", "vic")
	me, x, y, z, w, v := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	base := now().Add(-time.Hour)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	fromX := newRequest(t, s, x, me, at(1))
	toZ := newRequest(t, s, me, z, at(2))
	fromY := newRequest(t, s, y, me, at(3))
	toV := newRequest(t, s, me, v, at(4))
	declined := newRequest(t, s, w, me, at(5))
	_, err := s.ResolveFriendRequest(ctx, declined.ID, models.RequestDeclined, at(6))
	fatalIf(t, err, "ResolveFriendRequest")
	accepted := newRequest(t, s, me, w, at(7))
	_, err = s.ResolveFriendRequest(ctx, accepted.ID, models.RequestAccepted, at(8))
	fatalIf(t, err, "ResolveFriendRequest")

	in, out, err := s.PendingRequests(ctx, me)
	fatalIf(t, err, "PendingRequests")
	sameOrder(t, "incoming (newest first)", requestIDs(in), []string{fromY.ID, fromX.ID})
	sameOrder(t, "outgoing (newest first)", requestIDs(out), []string{toV.ID, toZ.ID})
	if len(in) == 2 {
		checkRequest(t, "incoming request", in[0], fromY)
	}
	in, out, err = s.PendingRequests(ctx, x)
	fatalIf(t, err, "PendingRequests of x")
	equal(t, "incoming of x", len(in), 0)
	sameOrder(t, "outgoing of x", requestIDs(out), []string{fromX.ID})
	in, out, err = s.PendingRequests(ctx, w)
	fatalIf(t, err, "PendingRequests of w")
	equal(t, "pending of w (all resolved)", len(in)+len(out), 0)
}

func testMissingFriendRequest(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	newRequest(t, s, ids[0], ids[1], now())
	for _, id := range append([]string{models.NewID()}, malformedIDs...) {
		_, err := s.FriendRequestByID(ctx, id)
		wantErr(t, err, models.ErrNotFound, "FriendRequestByID("+id+")")
		_, err = s.ResolveFriendRequest(ctx, id, models.RequestAccepted, now())
		wantErr(t, err, models.ErrNotFound, "ResolveFriendRequest("+id+")")
		_, err = s.PendingRequest(ctx, id, ids[1])
		wantErr(t, err, models.ErrNotFound, "PendingRequest("+id+", b)")
		_, err = s.PendingRequest(ctx, ids[0], id)
		wantErr(t, err, models.ErrNotFound, "PendingRequest(a, "+id+")")
	}
	checkFriends(t, s, ids[0], ids[1], false)
}
