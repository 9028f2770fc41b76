package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/models"
)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	img := "http://img/a.png"
	alice := &models.User{ID: models.NewID(), Handle: "alice", Name: "Alice Ä", Image: &img,
		PasswordHash: "hash", CreatedAt: t0.Add(1234567), UpdatedAt: t0}
	if err := s.CreateUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Handle != "alice" || got.Name != "Alice Ä" || *got.Image != img || got.PasswordHash != "hash" ||
		got.LastSeen != nil || !got.CreatedAt.Equal(t0.Add(1000000)) || got.CreatedAt.Location().String() != "UTC" {
		t.Fatalf("round trip: %+v", got)
	}
	if err := s.CreateUser(ctx, &models.User{ID: models.NewID(), Handle: "alice", CreatedAt: t0, UpdatedAt: t0}); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("taken handle: %v", err)
	}
	if _, err := s.UserByHandle(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"nope", models.NewID(), "zzzzzzzzzzzzzzzzzzzzzzzz"} {
		if _, err := s.UserByID(ctx, id); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("UserByID(%q): %v", id, err)
		}
	}

	// EnsureUser: returns the stored user when the id exists, inserts otherwise.
	e, err := s.EnsureUser(ctx, &models.User{ID: alice.ID, Handle: "other", Name: "x", CreatedAt: t0, UpdatedAt: t0})
	if err != nil || e.Handle != "alice" {
		t.Fatalf("EnsureUser existing: %+v %v", e, err)
	}
	bob := &models.User{ID: models.NewID(), Handle: "bob_1", Name: "Bob", CreatedAt: t0, UpdatedAt: t0}
	if e, err = s.EnsureUser(ctx, bob); err != nil || e.Handle != "bob_1" {
		t.Fatalf("EnsureUser new: %+v %v", e, err)
	}
	if _, err := s.EnsureUser(ctx, &models.User{ID: models.NewID(), Handle: "bob_1", CreatedAt: t0, UpdatedAt: t0}); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("EnsureUser taken handle: %v", err)
	}
	mkUser(t, s, "bobby", "Robert")
	mkUser(t, s, "carol", "ALICIA")
	mkUser(t, s, "bob%x", "Weird")

	search := func(q string, limit int) []string {
		t.Helper()
		us, err := s.SearchUsers(ctx, q, limit)
		if err != nil {
			t.Fatal(err)
		}
		var hs []string
		for _, u := range us {
			hs = append(hs, u.Handle)
		}
		return hs
	}
	check := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v want %v", got, want)
			}
		}
	}
	check(search("AL", 10), "alice", "carol") // handle or name, case-insensitive, by handle
	check(search("ali", 1), "alice")
	check(search("alice ä", 10), "alice") // non-ASCII case folding
	check(search("bob", 10), "bob%x", "bob_1", "bobby")
	check(search("bob_", 10), "bob_1") // _ is literal
	check(search("bob%", 10), "bob%x") // % is literal
	check(search("%", 10))
	check(search(`\`, 10))

	us, err := s.UsersByIDs(ctx, []string{alice.ID, bob.ID, "bad", models.NewID()})
	if err != nil || len(us) != 2 {
		t.Fatalf("UsersByIDs: %d %v", len(us), err)
	}

	newName, newImg := "Alice B", "http://img/b.png"
	u, err := s.UpdateUser(ctx, alice.ID, models.UserPatch{Name: &newName}, at(5))
	if err != nil || u.Name != newName || u.Image == nil || *u.Image != img || !u.UpdatedAt.Equal(at(5)) {
		t.Fatalf("UpdateUser name: %+v %v", u, err)
	}
	if u, err = s.UpdateUser(ctx, alice.ID, models.UserPatch{Image: &newImg}, at(6)); err != nil || *u.Image != newImg || u.Name != newName {
		t.Fatalf("UpdateUser image: %+v %v", u, err)
	}
	if u, err = s.UpdateUser(ctx, alice.ID, models.UserPatch{ClearImage: true}, at(7)); err != nil || u.Image != nil {
		t.Fatalf("UpdateUser clear: %+v %v", u, err)
	}
	check(search("alice b", 10), "alice")
	if _, err := s.UpdateUser(ctx, models.NewID(), models.UserPatch{Name: &newName}, at(7)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("UpdateUser missing: %v", err)
	}
	if err := s.SetLastSeen(ctx, alice.ID, at(9)); err != nil {
		t.Fatal(err)
	}
	if u, _ = s.UserByID(ctx, alice.ID); u.LastSeen == nil || !u.LastSeen.Equal(at(9)) {
		t.Fatalf("LastSeen: %+v", u.LastSeen)
	}
	if err := s.SetLastSeen(ctx, "bad", at(9)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("SetLastSeen malformed: %v", err)
	}
}
