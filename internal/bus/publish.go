package bus

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// op is one queued write to Redis: a publish, or commands of Parley's own.
type op struct {
	channel string
	payload []byte
	do      func(ctx context.Context, p redis.Pipeliner)
	// barrier is closed once every op queued before it has been sent (or given up).
	barrier chan struct{}
	at      time.Time
}

// Publish queues a message for channel; it never blocks (a full queue drops it, counted).
func (b *Bus) Publish(channel string, payload []byte) {
	b.enqueue(op{channel: channel, payload: payload})
}

// Do queues commands to run in the publisher's next pipeline (presence hashes and the
// like); like Publish it never blocks.
func (b *Bus) Do(fn func(ctx context.Context, p redis.Pipeliner)) {
	b.enqueue(op{do: fn})
}

func (b *Bus) enqueue(o op) {
	o.at = time.Now()
	select {
	case b.queue <- o:
	default:
		b.dropped.Add(1)
	}
}

// flushed waits (bounded by ctx) until what was queued before the call has been sent to
// Redis. It returns at once when the queue is full.
func (b *Bus) flushed(ctx context.Context) {
	done := make(chan struct{})
	select {
	case b.queue <- op{barrier: done, at: time.Now()}:
	default:
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

const maxBatch = 256

// publishLoop sends queued ops in pipelines. A failed pipeline is not retried (a
// publish that timed out may have been delivered, and a retry would deliver it twice);
// after a failure it waits with backoff before the next attempt.
func (b *Bus) publishLoop() {
	defer b.wg.Done()
	var bo backoff
	batch := make([]op, 0, maxBatch)
	for {
		select {
		case <-b.ctx.Done():
			return
		case o := <-b.queue:
			batch = append(batch[:0], o)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case o := <-b.queue:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		if err := b.send(batch); err != nil {
			b.setState(false, err)
			if !b.sleep(bo.next()) {
				return
			}
			continue
		}
		bo.reset()
	}
}

// send runs one batch as a pipeline, dropping what has waited longer than MaxAge.
func (b *Bus) send(batch []op) error {
	cutoff := time.Now().Add(-b.opts.MaxAge)
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	pipe := b.client.Pipeline()
	n := 0
	var barriers []chan struct{}
	defer func() {
		for _, c := range barriers {
			close(c)
		}
	}()
	for i := range batch {
		o := &batch[i]
		if o.barrier != nil {
			barriers = append(barriers, o.barrier)
			batch[i] = op{}
			continue
		}
		if o.at.Before(cutoff) {
			b.dropped.Add(1)
			continue
		}
		if o.do != nil {
			o.do(ctx, pipe)
		} else {
			pipe.Publish(ctx, o.channel, o.payload)
		}
		n++
		batch[i] = op{}
	}
	if n == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		b.dropped.Add(uint64(n))
		return err
	}
	b.published.Add(uint64(n))
	return nil
}
