package mongo

import (
	"context"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// holeRetryEvery is how often tombstones that could not be written (the database was
// down when the insert they replace failed) are tried again. Clients must not see the
// gap for longer than the outage itself, so this does not wait for the hourly sweep.
const holeRetryEvery = time.Second

// pendingHoles are reserved seqs known to be unused (their insert failed) whose
// tombstone could not be written yet.
type pendingHoles struct {
	mu    sync.Mutex
	holes map[holeKey]bson.ObjectID // → the tombstone's sender
}

type holeKey struct {
	chat bson.ObjectID
	seq  int64
}

func (p *pendingHoles) add(chat bson.ObjectID, seq int64, sender bson.ObjectID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holes == nil {
		p.holes = map[holeKey]bson.ObjectID{}
	}
	p.holes[holeKey{chat, seq}] = sender
}

func (p *pendingHoles) snapshot() map[holeKey]bson.ObjectID {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[holeKey]bson.ObjectID, len(p.holes))
	for k, v := range p.holes {
		out[k] = v
	}
	return out
}

func (p *pendingHoles) done(k holeKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.holes, k)
}

// holeLoop retries pending tombstones until each is written (a duplicate key counts:
// the seq turned out to be used after all). Stopped by Close.
func (s *Store) holeLoop() {
	defer close(s.holesDone)
	t := time.NewTicker(holeRetryEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for k, sender := range s.holes.snapshot() {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.ServerSelectionTimeout+time.Second)
			err := s.insertTombstone(ctx, k.chat, k.seq, sender, ms(time.Now()))
			cancel()
			if err != nil {
				break // still down: try again at the next tick
			}
			s.holes.done(k)
		}
	}
}
