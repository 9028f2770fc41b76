package storetest

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/models"
)

var messageListTests = []storeTest{
	{"Cursors", testListCursors},
	{"Deleted", testListDeleted},
}

func testListCursors(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	other := newDirect(t, s, ids[0], ids[1])
	sendN(t, s, other.ID, 3, ids...) // must never show up in chat's pages
	sent := sendN(t, s, chat.ID, 10, ids...)
	sendN(t, s, other.ID, 3, ids...)

	yes, no := ptr(true), ptr(false)
	for _, tc := range []struct {
		before, after int64
		limit         int
		want          []int64
		hasMore       *bool // nil: not specified by the protocol
	}{
		// No cursor: the newest limit messages; hasMore: older ones exist.
		{0, 0, 3, seqRange(8, 10), yes},
		{0, 0, 9, seqRange(2, 10), yes},
		{0, 0, 10, seqRange(1, 10), no},
		{0, 0, 50, seqRange(1, 10), no},
		// After = -1 is a client's `after: 0`: the oldest limit from the first message on.
		{0, -1, 3, seqRange(1, 3), yes},
		{0, -1, 10, seqRange(1, 10), no},
		{6, -1, 3, seqRange(1, 3), yes},
		// before only: the newest limit with seq < before; hasMore: older ones exist.
		{5, 0, 2, seqRange(3, 4), yes},
		{3, 0, 2, seqRange(1, 2), no},
		{4, 0, 5, seqRange(1, 3), no},
		{2, 0, 1, seqRange(1, 1), no},
		{1, 0, 5, nil, no},
		{11, 0, 10, seqRange(1, 10), no},
		{100, 0, 3, seqRange(8, 10), yes},
		// after only: the oldest limit with seq > after; hasMore: newer ones exist.
		{0, 5, 2, seqRange(6, 7), yes},
		{0, 8, 2, seqRange(9, 10), no},
		{0, 7, 10, seqRange(8, 10), no},
		{0, 1, 8, seqRange(2, 9), yes},
		{0, 1, 9, seqRange(2, 10), no},
		{0, 10, 5, nil, no},
		{0, 100, 5, nil, no},
		// Both: after < seq < before, oldest first, at most limit.
		{9, 2, 3, seqRange(3, 5), yes},
		{9, 2, 10, seqRange(3, 8), nil},
		{100, 7, 5, seqRange(8, 10), no},
		{11, 0, 4, seqRange(7, 10), yes}, // after 0 is unset: before only
		{5, 4, 5, nil, nil},
		{5, 5, 5, nil, nil},
		{3, 8, 5, nil, nil},
	} {
		q := models.MessageQuery{Before: tc.before, After: tc.after, Limit: tc.limit}
		what := fmt.Sprintf("ListMessages(before %d, after %d, limit %d)", tc.before, tc.after, tc.limit)
		got, more, err := s.ListMessages(ctx, chat.ID, q)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		sameOrder(t, what+" seqs", messageSeqs(got), tc.want)
		if tc.hasMore != nil {
			equal(t, what+" hasMore", more, *tc.hasMore)
		}
		for _, m := range got {
			if m.ChatID != chat.ID || m.Seq < 1 || m.Seq > int64(len(sent)) {
				t.Errorf("%s: message %s of chat %s with seq %d", what, m.ID, m.ChatID, m.Seq)
			} else if m.ID != sent[m.Seq-1].ID {
				t.Errorf("%s: seq %d is message %s, want %s", what, m.Seq, m.ID, sent[m.Seq-1].ID)
			}
		}
	}

	empty := newGroup(t, s, ids...)
	got, more, err := s.ListMessages(ctx, empty.ID, models.MessageQuery{Limit: 50})
	fatalIf(t, err, "ListMessages of an empty chat")
	equal(t, "len(ListMessages of an empty chat)", len(got), 0)
	equal(t, "hasMore of an empty chat", more, false)
}

// A deleted message keeps its place, id and seq, with no text.
func testListDeleted(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	sent := sendN(t, s, chat.ID, 4, ids...)
	_, err := s.DeleteMessage(ctx, sent[1].ID, now())
	fatalIf(t, err, "DeleteMessage")

	got, more, err := s.ListMessages(ctx, chat.ID, models.MessageQuery{Limit: 3})
	fatalIf(t, err, "ListMessages")
	sameOrder(t, "seqs with a deleted message", messageSeqs(got), seqRange(2, 4))
	equal(t, "hasMore", more, true)
	if len(got) == 3 {
		equal(t, "deleted message id", got[0].ID, sent[1].ID)
		equal(t, "deleted message Deleted", got[0].Deleted, true)
		equal(t, "deleted message Text", got[0].Text, "")
		equal(t, "other message Deleted", got[1].Deleted, false)
		equal(t, "other message Text", got[1].Text, "message")
	}
}
