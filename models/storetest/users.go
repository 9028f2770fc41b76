package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var userTests = []storeTest{
	{"CreateAndGet", testCreateAndGetUser},
	{"DuplicateHandle", testDuplicateHandle},
	{"Missing", testMissingUser},
	{"UsersByIDs", testUsersByIDs},
	{"UpdateUser", testUpdateUser},
	{"SetLastSeen", testSetLastSeen},
	{"EnsureUser", testEnsureUser},
	{"EnsureUserConcurrent", testEnsureUserConcurrent},
}

func checkUser(t *testing.T, what string, got, want *models.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil user", what)
	}
	equal(t, what+".ID", got.ID, want.ID)
	equal(t, what+".Handle", got.Handle, want.Handle)
	equal(t, what+".Name", got.Name, want.Name)
	sameStrPtr(t, what+".Image", got.Image, want.Image)
	equal(t, what+".PasswordHash", got.PasswordHash, want.PasswordHash)
	sameTimePtr(t, what+".LastSeen", got.LastSeen, want.LastSeen)
	sameTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, what+".UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func testCreateAndGetUser(t *testing.T, s models.Store) {
	ctx := t.Context()
	at := now()
	seen := at.Add(-time.Hour)
	alice := &models.User{
		ID: models.NewID(), Handle: "alice", Name: "Alice Liddell",
		Image: ptr("https://img.example/alice.png"), PasswordHash: "$2a$10$hash",
		LastSeen: &seen, CreatedAt: at.Add(-time.Minute), UpdatedAt: at,
	}
	fatalIf(t, s.CreateUser(ctx, alice), "CreateUser alice")
	bob := &models.User{ID: models.NewID(), Handle: "bob", Name: "Bob", CreatedAt: at, UpdatedAt: at}
	fatalIf(t, s.CreateUser(ctx, bob), "CreateUser bob")

	for _, want := range []*models.User{alice, bob} {
		got, err := s.UserByID(ctx, want.ID)
		fatalIf(t, err, "UserByID "+want.Handle)
		checkUser(t, "UserByID "+want.Handle, got, want)
		got, err = s.UserByHandle(ctx, want.Handle)
		fatalIf(t, err, "UserByHandle "+want.Handle)
		checkUser(t, "UserByHandle "+want.Handle, got, want)
	}
}

func testDuplicateHandle(t *testing.T, s models.Store) {
	ctx := t.Context()
	first := newUser(t, s, "taken")
	at := now()
	dup := &models.User{ID: models.NewID(), Handle: "taken", Name: "Impostor", CreatedAt: at, UpdatedAt: at}
	wantErr(t, s.CreateUser(ctx, dup), models.ErrConflict, "CreateUser with a taken handle")
	_, err := s.EnsureUser(ctx, dup)
	wantErr(t, err, models.ErrConflict, "EnsureUser (new id) with a taken handle")

	got, err := s.UserByHandle(ctx, "taken")
	fatalIf(t, err, "UserByHandle")
	checkUser(t, "the first owner of the handle", got, first)
	_, err = s.UserByID(ctx, dup.ID)
	wantErr(t, err, models.ErrNotFound, "UserByID of the refused user")
}

func testMissingUser(t *testing.T, s models.Store) {
	ctx := t.Context()
	newUser(t, s, "someone") // so that a query matching everything would find a user
	_, err := s.UserByID(ctx, models.NewID())
	wantErr(t, err, models.ErrNotFound, "UserByID of an unknown id")
	_, err = s.UserByHandle(ctx, "nobody")
	wantErr(t, err, models.ErrNotFound, "UserByHandle of an unknown handle")
	for _, id := range malformedIDs {
		_, err := s.UserByID(ctx, id)
		wantErr(t, err, models.ErrNotFound, "UserByID("+id+")")
		_, err = s.UserByHandle(ctx, id)
		wantErr(t, err, models.ErrNotFound, "UserByHandle("+id+")")
		_, err = s.UpdateUser(ctx, id, models.UserPatch{Name: ptr("x")}, now())
		wantErr(t, err, models.ErrNotFound, "UpdateUser("+id+")")
	}
	_, err = s.UpdateUser(ctx, models.NewID(), models.UserPatch{Name: ptr("x")}, now())
	wantErr(t, err, models.ErrNotFound, "UpdateUser of an unknown id")
}

func testUsersByIDs(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	ask := []string{ids[2], models.NewID(), ids[0]}
	ask = append(ask, malformedIDs...)
	got, err := s.UsersByIDs(ctx, ask)
	fatalIf(t, err, "UsersByIDs")
	sameSet(t, "UsersByIDs ids", userIDs(got), []string{ids[0], ids[2]})
	sameSet(t, "UsersByIDs handles", userHandles(got), []string{"ann", "cat"})

	got, err = s.UsersByIDs(ctx, nil)
	fatalIf(t, err, "UsersByIDs(nil)")
	equal(t, "len(UsersByIDs(nil))", len(got), 0)
	got, err = s.UsersByIDs(ctx, []string{models.NewID()})
	fatalIf(t, err, "UsersByIDs(unknown)")
	equal(t, "len(UsersByIDs(unknown))", len(got), 0)
}

func testUpdateUser(t *testing.T, s models.Store) {
	ctx := t.Context()
	at := now()
	u := &models.User{
		ID: models.NewID(), Handle: "alice", Name: "Alice", Image: ptr("https://img.example/1.png"),
		PasswordHash: "secret", CreatedAt: at, UpdatedAt: at,
	}
	fatalIf(t, s.CreateUser(ctx, u), "CreateUser")
	want := *u

	step := func(what string, p models.UserPatch, when time.Time) {
		t.Helper()
		got, err := s.UpdateUser(ctx, u.ID, p, when)
		fatalIf(t, err, what)
		want.UpdatedAt = when
		checkUser(t, what+" result", got, &want)
		stored, err := s.UserByID(ctx, u.ID)
		fatalIf(t, err, what+": UserByID")
		checkUser(t, what+" stored", stored, &want)
	}

	want.Name = "Alicia"
	step("UpdateUser name", models.UserPatch{Name: ptr("Alicia")}, at.Add(1*time.Second))
	want.Image = ptr("https://img.example/2.png")
	step("UpdateUser image", models.UserPatch{Image: ptr("https://img.example/2.png")}, at.Add(2*time.Second))
	want.Image = nil
	step("UpdateUser clearImage", models.UserPatch{ClearImage: true}, at.Add(3*time.Second))
	want.Name, want.Image = "Alice L.", ptr("https://img.example/3.png")
	step("UpdateUser name+image", models.UserPatch{Name: ptr("Alice L."), Image: ptr("https://img.example/3.png")}, at.Add(4*time.Second))

	// An empty patch changes no field (whether it bumps UpdatedAt is not specified).
	got, err := s.UpdateUser(ctx, u.ID, models.UserPatch{}, at.Add(5*time.Second))
	fatalIf(t, err, "UpdateUser empty patch")
	equal(t, "Name after an empty patch", got.Name, want.Name)
	sameStrPtr(t, "Image after an empty patch", got.Image, want.Image)
	equal(t, "Handle after an empty patch", got.Handle, "alice")
}

func testSetLastSeen(t *testing.T, s models.Store) {
	ctx := t.Context()
	u := newUser(t, s, "seen")
	got, err := s.UserByID(ctx, u.ID)
	fatalIf(t, err, "UserByID")
	sameTimePtr(t, "LastSeen of a new user", got.LastSeen, nil)
	for i, when := range []time.Time{now().Add(-time.Minute), now().Add(time.Minute)} {
		fatalIf(t, s.SetLastSeen(ctx, u.ID, when), "SetLastSeen")
		got, err := s.UserByID(ctx, u.ID)
		fatalIf(t, err, "UserByID")
		sameTimePtr(t, fmt.Sprintf("LastSeen after SetLastSeen #%d", i+1), got.LastSeen, &when)
		equal(t, "Name after SetLastSeen", got.Name, u.Name)
	}
}

func testEnsureUser(t *testing.T, s models.Store) {
	ctx := t.Context()
	at := now()
	u := &models.User{ID: models.NewID(), Handle: "ext", Name: "External", Image: ptr("https://idp.example/p.png"), CreatedAt: at, UpdatedAt: at}
	got, err := s.EnsureUser(ctx, u)
	fatalIf(t, err, "EnsureUser (first)")
	checkUser(t, "EnsureUser (first)", got, u)
	stored, err := s.UserByID(ctx, u.ID)
	fatalIf(t, err, "UserByID after EnsureUser")
	checkUser(t, "stored after EnsureUser", stored, u)

	// The same id again, with other fields: the stored user wins and nothing changes.
	later := at.Add(time.Hour)
	again := &models.User{ID: u.ID, Handle: "ext", Name: "Changed", CreatedAt: later, UpdatedAt: later}
	got, err = s.EnsureUser(ctx, again)
	fatalIf(t, err, "EnsureUser (existing id)")
	checkUser(t, "EnsureUser (existing id)", got, u)
	renamed := &models.User{ID: u.ID, Handle: "ext-renamed", Name: "Changed", CreatedAt: later, UpdatedAt: later}
	got, err = s.EnsureUser(ctx, renamed)
	fatalIf(t, err, "EnsureUser (existing id, other handle)")
	checkUser(t, "EnsureUser (existing id, other handle)", got, u)
	stored, err = s.UserByID(ctx, u.ID)
	fatalIf(t, err, "UserByID")
	checkUser(t, "stored after repeated EnsureUser", stored, u)
	_, err = s.UserByHandle(ctx, "ext-renamed")
	wantErr(t, err, models.ErrNotFound, "UserByHandle of a handle EnsureUser did not store")
}

// Two tabs of a new external user connect at once: both EnsureUser calls succeed and
// return the same user.
func testEnsureUserConcurrent(t *testing.T, s models.Store) {
	ctx := t.Context()
	at := now()
	id := models.NewID()
	const n = 6
	var wg sync.WaitGroup
	got := make([]*models.User, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := &models.User{ID: id, Handle: "racer", Name: "Racer", CreatedAt: at, UpdatedAt: at}
			var err error
			got[i], err = s.EnsureUser(ctx, u)
			if err != nil {
				t.Errorf("concurrent EnsureUser #%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for i, u := range got {
		if u != nil && (u.ID != id || u.Handle != "racer") {
			t.Errorf("concurrent EnsureUser #%d returned %s/%s, want %s/racer", i, u.ID, u.Handle, id)
		}
	}
}
