package sqlite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// BenchmarkInsertMessage measures one send at a time (each its own transaction) and
// sends from many goroutines at once (group commit), each with a clientId as clients
// send them. The text is one 100-character word ("x" × 100), or with /words sentences of
// 100 or so characters in three languages (which the search index splits into words).
func BenchmarkInsertMessage(b *testing.B) {
	for _, c := range []struct {
		name string
		par  int
		text func(i int) string
	}{
		{"concurrent=1", 1, func(int) string { return strings.Repeat("x", 100) }},
		{"concurrent=32", 32, func(int) string { return strings.Repeat("x", 100) }},
		{"concurrent=1/words", 1, benchText},
		{"concurrent=32/words", 32, benchText},
	} {
		par := c.par
		b.Run(c.name, func(b *testing.B) {
			s := openTest(b)
			ctx := context.Background()
			sender := models.NewID()
			var chats []string
			for i := 0; i < 10; i++ {
				chats = append(chats, mkGroup(b, s, time.Now(), sender, models.NewID()).ID)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N / par
			for g := 0; g < par; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						cid := fmt.Sprintf("c-%d-%d", g, i)
						m := &models.Message{ChatID: chats[(g+i)%len(chats)], SenderID: sender, Text: c.text(g*per + i), ClientID: &cid, CreatedAt: time.Now()}
						if _, _, err := s.InsertMessage(ctx, m); err != nil {
							b.Error(err)
							return
						}
					}
				}(g)
			}
			wg.Wait()
			b.StopTimer()
			batches, writes := s.w.batches.Load(), s.w.writes.Load()
			if batches > 0 {
				b.ReportMetric(float64(writes)/float64(batches), "writes/commit")
			}
		})
	}
}

// benchTexts are chat-like messages of about 100 characters: English, French (accents) and
// German (ß, umlauts).
var benchTexts = []string{
	"Hey, are we still on for lunch tomorrow at 12:30? I can book the usual place near the office.",
	"Salut ! On se retrouve au café demain à midi ? Je réserve la crêperie près du bureau, d'accord ?",
	"Können wir das Meeting auf Donnerstag verschieben? Die Straße vor dem Büro ist wegen Bauarbeiten gesperrt.",
	"Just pushed the fix for the login bug, can someone review PR #4821 before the 5pm deploy window closes?",
}

func benchText(i int) string { return benchTexts[i%len(benchTexts)] }
