package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley/models"
)

var readMarkTests = []storeTest{
	{"ForwardOnly", testReadMarksForward},
	{"Concurrent", testReadMarksConcurrent},
}

func markRead(t *testing.T, s models.Store, chatID, userID string, seq, want int64) {
	t.Helper()
	got, err := s.MarkRead(t.Context(), chatID, userID, seq)
	fatalIf(t, err, "MarkRead")
	equal(t, fmt.Sprintf("MarkRead(%d) returned mark", seq), got, want)
}

func readSeqs(t *testing.T, s models.Store, userID string, chatIDs []string, want map[string]int64) {
	t.Helper()
	got, err := s.ReadSeqs(t.Context(), userID, chatIDs)
	fatalIf(t, err, "ReadSeqs")
	for id, w := range want {
		equal(t, "ReadSeqs["+id+"]", got[id], w)
	}
	for id, v := range got {
		if _, ok := want[id]; !ok && v != 0 {
			t.Errorf("ReadSeqs has a mark %d for chat %s that was not asked for", v, id)
		}
	}
}

func testReadMarksForward(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	x := newGroup(t, s, a, b)
	y := newGroup(t, s, a, b)
	sendN(t, s, x.ID, 8, a, b)
	sendN(t, s, y.ID, 2, a, b)
	both := []string{x.ID, y.ID}

	readSeqs(t, s, a, both, map[string]int64{x.ID: 0, y.ID: 0})
	markRead(t, s, x.ID, a, 5, 5)
	markRead(t, s, x.ID, a, 3, 5) // never back
	markRead(t, s, x.ID, a, 5, 5)
	readSeqs(t, s, a, both, map[string]int64{x.ID: 5, y.ID: 0})
	markRead(t, s, x.ID, b, 2, 2) // per user
	markRead(t, s, x.ID, a, 7, 7)
	markRead(t, s, y.ID, a, 1, 1) // per chat
	readSeqs(t, s, a, both, map[string]int64{x.ID: 7, y.ID: 1})
	readSeqs(t, s, b, both, map[string]int64{x.ID: 2, y.ID: 0})
	readSeqs(t, s, a, []string{y.ID}, map[string]int64{y.ID: 1})
	readSeqs(t, s, a, nil, map[string]int64{})
	readSeqs(t, s, a, append([]string{x.ID, models.NewID()}, malformedIDs...), map[string]int64{x.ID: 7})
}

// Marks sent concurrently in any order end at the highest one.
func testReadMarksConcurrent(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	sendN(t, s, chat.ID, 40, ids[1])
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := int64(0)
			for i := range 5 {
				seq := int64(40 - i*workers - w) // 40..1, interleaved across workers
				got, err := s.MarkRead(t.Context(), chat.ID, ids[0], seq)
				if err != nil {
					t.Errorf("worker %d: MarkRead(%d): %v", w, seq, err)
					return
				}
				if got < seq || got < prev {
					t.Errorf("worker %d: MarkRead(%d) = %d after %d: a mark moved back", w, seq, got, prev)
				}
				prev = got
			}
		}()
	}
	wg.Wait()
	readSeqs(t, s, ids[0], []string{chat.ID}, map[string]int64{chat.ID: 40})
}
