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
// send them.
func BenchmarkInsertMessage(b *testing.B) {
	for _, par := range []int{1, 32} {
		b.Run(fmt.Sprintf("concurrent=%d", par), func(b *testing.B) {
			s := openTest(b)
			ctx := context.Background()
			sender := models.NewID()
			var chats []string
			for i := 0; i < 10; i++ {
				chats = append(chats, mkGroup(b, s, time.Now(), sender, models.NewID()).ID)
			}
			text := strings.Repeat("x", 100)
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N / par
			for g := 0; g < par; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						cid := fmt.Sprintf("c-%d-%d", g, i)
						m := &models.Message{ChatID: chats[(g+i)%len(chats)], SenderID: sender, Text: text, ClientID: &cid, CreatedAt: time.Now()}
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
