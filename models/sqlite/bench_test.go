package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// BenchmarkInsertMessage measures the hot path with many concurrent senders, the case
// group commit is for. It reports the average writes per transaction.
func BenchmarkInsertMessage(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a := models.NewID()
	chats := make([]string, 16)
	for i := range chats {
		c := &models.Chat{ID: models.NewID(), Type: models.ChatGroup, Participants: []string{a}, Admins: []string{a}, CreatedBy: a, CreatedAt: t0}
		if err := s.CreateChat(context.Background(), c); err != nil {
			b.Fatal(err)
		}
		chats[i] = c.ID
	}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, _, err := s.InsertMessage(context.Background(), &models.Message{ID: models.NewID(), ChatID: chats[i%len(chats)], SenderID: a,
				Text: "hello there, this is a benchmark message", CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	if n := s.w.batches.Load(); n > 0 {
		b.ReportMetric(float64(s.w.writes.Load())/float64(n), "writes/batch")
	}
}
