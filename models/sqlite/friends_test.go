package sqlite

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parley-chat/parley/models"
)

func TestFriendRequests(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b, c := models.NewID(), models.NewID(), models.NewID()
	req := func(from, to string, sec int) *models.FriendRequest {
		r := &models.FriendRequest{ID: models.NewID(), FromID: from, ToID: to, Status: models.RequestPending, CreatedAt: at(sec), UpdatedAt: at(sec)}
		if err := s.CreateFriendRequest(ctx, r); err != nil {
			t.Fatalf("CreateFriendRequest: %v", err)
		}
		return r
	}
	r1 := req(a, b, 1)
	if err := s.CreateFriendRequest(ctx, &models.FriendRequest{ID: models.NewID(), FromID: a, ToID: b, Status: models.RequestPending, CreatedAt: at(2)}); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second pending: %v", err)
	}
	r2 := req(c, b, 3)
	r3 := req(b, c, 4)
	if p, err := s.PendingRequest(ctx, a, b); err != nil || p.ID != r1.ID {
		t.Fatalf("PendingRequest: %+v %v", p, err)
	}
	if _, err := s.PendingRequest(ctx, b, a); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("PendingRequest reverse: %v", err)
	}
	in, out, err := s.PendingRequests(ctx, b)
	if err != nil || len(in) != 2 || in[0].ID != r2.ID || in[1].ID != r1.ID || len(out) != 1 || out[0].ID != r3.ID {
		t.Fatalf("PendingRequests: %v %v %v", in, out, err)
	}

	got, err := s.ResolveFriendRequest(ctx, r1.ID, models.RequestAccepted, at(10))
	if err != nil || got.Status != models.RequestAccepted || !got.UpdatedAt.Equal(at(10)) || !got.CreatedAt.Equal(at(1)) {
		t.Fatalf("accept: %+v %v", got, err)
	}
	if _, err := s.ResolveFriendRequest(ctx, r1.ID, models.RequestDeclined, at(11)); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("resolve twice: %v", err)
	}
	if _, err := s.ResolveFriendRequest(ctx, models.NewID(), models.RequestDeclined, at(11)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("resolve missing: %v", err)
	}
	if _, err := s.ResolveFriendRequest(ctx, r2.ID, models.RequestDeclined, at(12)); err != nil {
		t.Fatal(err)
	}
	// A resolved request no longer blocks a new pending one.
	req(a, b, 13)
	if r, _ := s.FriendRequestByID(ctx, r2.ID); r.Status != models.RequestDeclined {
		t.Fatalf("FriendRequestByID: %+v", r)
	}

	for _, pair := range [][2]string{{a, b}, {b, a}} {
		if ok, err := s.AreFriends(ctx, pair[0], pair[1]); err != nil || !ok {
			t.Fatalf("AreFriends: %v %v", ok, err)
		}
	}
	if ok, _ := s.AreFriends(ctx, a, c); ok {
		t.Fatal("a and c are not friends")
	}
	if ids, err := s.FriendIDs(ctx, b); err != nil || !slices.Equal(ids, []string{a}) {
		t.Fatalf("FriendIDs: %v %v", ids, err)
	}
	if removed, err := s.RemoveFriend(ctx, b, a); err != nil || !removed {
		t.Fatalf("RemoveFriend: %v %v", removed, err)
	}
	if removed, err := s.RemoveFriend(ctx, b, a); err != nil || removed {
		t.Fatalf("RemoveFriend again: %v %v", removed, err)
	}
	if ok, _ := s.AreFriends(ctx, a, b); ok {
		t.Fatal("still friends")
	}
}

func TestBlocks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b, c := models.NewID(), models.NewID(), models.NewID()
	for range 2 {
		if err := s.Block(ctx, a, b, at(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Block(ctx, a, c, at(2)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.IsBlocked(ctx, a, b); err != nil || !ok {
		t.Fatalf("IsBlocked: %v %v", ok, err)
	}
	if ok, _ := s.IsBlocked(ctx, b, a); ok {
		t.Fatal("blocks are directed")
	}
	if ids, err := s.BlockedIDs(ctx, a); err != nil || !slices.Equal(ids, []string{b, c}) {
		t.Fatalf("BlockedIDs: %v %v", ids, err)
	}
	if err := s.Unblock(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Unblock(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.IsBlocked(ctx, a, b); ok {
		t.Fatal("still blocked")
	}
	if ok, err := s.IsBlocked(ctx, "x", b); err != nil || ok {
		t.Fatalf("malformed: %v %v", ok, err)
	}
}
