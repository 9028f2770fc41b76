package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// maxBatch caps how many writes share one transaction. Measured on the target machines,
// ~16 per transaction is ~4× faster than one each and 128 is no better, so the cap only
// bounds the latency of the last write in a burst.
const maxBatch = 128

// gatherWait is how long a batch waits for more writes while several writers are active
// (the previous batch carried more than one write): each commit costs a dozen system
// calls whatever it carries, so under load a moment of waiting divides that cost among
// several sends. A lone writer (one send at a time) commits at once. Go's timers are
// coarse here: the wait is at most about a millisecond.
const gatherWait = 500 * time.Microsecond

// jobFunc is one write. It runs on the writer connection inside the batch transaction,
// under its own savepoint: returning an error undoes its changes only. ctx is the
// writer's, not the caller's, so a caller going away cannot abort a batch midway.
type jobFunc func(ctx context.Context, tx *stmtCache) error

type job struct {
	ctx  context.Context // the caller's: checked before the job starts
	fn   jobFunc
	done chan error // buffered: the writer never waits for a caller
	// single: the job changes the database with at most one statement (SQLite's own
	// statement rollback undoes it on failure), so it runs without a savepoint.
	single bool
	// sends: the job inserts messages and leaves what that does to other rows to the
	// writer's sendEffects, so the writer need not write them before it runs. Every other
	// job may read those rows: the writer writes the effects first.
	sends bool
}

// writer owns the single write connection and applies every write of the store through
// group commit: it takes the writes that queued while the previous transaction ran (up
// to maxBatch), applies them in arrival order in ONE transaction, each under its own
// savepoint so one failing write does not fail the others, commits, then answers each
// caller. Callers wait for their answer, so a caller's writes are applied in its order.
type writer struct {
	conn  *sql.Conn
	stmts *stmtCache // prepared on conn
	log   zerolog.Logger

	// reqs is unbuffered on purpose: a request is either taken by the writer or still
	// owned by its sender, so after quit no request can be stranded in a buffer. Senders
	// blocked in send form a FIFO queue, which is what the next batch drains.
	reqs chan *job
	// between carries work that must run on the writer connection outside any
	// transaction, between two batches (the checkpoint's tail, checkpoint.go). Unbuffered
	// for the same reason as reqs.
	between chan func(conn *sql.Conn)
	quit    chan struct{} // closed by close: stop taking requests
	done    chan struct{} // closed when the loop has exited

	// beforeCommit runs in every batch transaction that applied a write, after the last
	// write and before COMMIT; if it fails, the batch is rolled back and every write in
	// it fails. It brings the search index up to the batch's messages (search.go).
	beforeCommit jobFunc

	// effects gathers the sends' effects on other rows within a batch (sendeffects.go).
	effects *sendEffects

	// queued counts the callers waiting for the writer to take their write.
	queued atomic.Int64

	// Committed transactions and the writes they carried: their ratio is the group
	// commit factor.
	batches, writes atomic.Int64
}

func newWriter(ctx context.Context, db *sql.DB, log zerolog.Logger, beforeCommit jobFunc) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: writer connection: %w", err)
	}
	w := &writer{
		conn:  conn,
		stmts: newStmtCache(conn.PrepareContext),
		log:   log,
		reqs:  make(chan *job),

		between:      make(chan func(*sql.Conn)),
		beforeCommit: beforeCommit,
		effects:      newSendEffects(),
		quit:         make(chan struct{}),
		done:         make(chan struct{}),
	}
	go w.loop()
	return w, nil
}

// do queues fn and waits until the transaction that applied it has committed. If ctx ends
// first, do returns ctx's error; the write may still commit (every write is idempotent or
// guarded, so a retry is safe), but it does not start once its caller has gone.
func (w *writer) do(ctx context.Context, fn jobFunc, single, sends bool) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan error, 1), single: single, sends: sends}
	w.queued.Add(1)
	select {
	case w.reqs <- j:
		w.queued.Add(-1)
	case <-w.quit:
		w.queued.Add(-1)
		return errClosed
	case <-ctx.Done():
		w.queued.Add(-1)
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the writer skips a job whose
	// caller is gone before it starts, but one already running may still commit, and
	// reporting failure for a committed write (or reading what the job writes while it
	// runs) would be wrong.
	return <-j.done
}

// betweenBatches runs fn on the writer connection once the batch in flight has
// committed and before the next begins, outside any transaction, and waits for it: no
// write can change the database while fn runs.
func (w *writer) betweenBatches(ctx context.Context, fn func(conn *sql.Conn)) error {
	done := make(chan struct{})
	select {
	case w.between <- func(conn *sql.Conn) { defer close(done); fn(conn) }:
	case <-w.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-done
	return nil
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*job, 0, maxBatch)
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	busy := false
	for {
		select {
		case <-w.quit:
			return
		case fn := <-w.between:
			fn(w.conn)
			continue
		case j := <-w.reqs:
			batch = append(batch, j)
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case j := <-w.reqs:
				batch = append(batch, j)
			default:
				break collect
			}
		}
		if busy && len(batch) < maxBatch {
			gather.Reset(gatherWait)
		wait:
			for len(batch) < maxBatch {
				select {
				case j := <-w.reqs:
					batch = append(batch, j)
				case <-gather.C:
					break wait
				case <-w.quit:
					break wait
				}
			}
			gather.Stop()
		}
		busy = len(batch) > 1
		w.run(batch)
		clear(batch) // drop references to finished jobs
		batch = batch[:0]
	}
}

// run applies batch in one transaction and answers every job.
func (w *writer) run(batch []*job) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	answer := func() {
		for i, j := range batch {
			j.done <- errs[i]
		}
	}
	failAll := func(err error) {
		err = dbErr(err)
		if !isUnavailable(err) {
			err = fmt.Errorf("%w: %v", models.ErrUnavailable, err)
		}
		for i := range errs {
			errs[i] = err
		}
		answer()
	}

	if err := w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		// A connection left inside a transaction by an earlier failure would refuse
		// every later BEGIN: reset it so the next batch can start.
		_ = w.exec(ctx, "ROLLBACK")
		w.effects.reset()
		w.log.Error().Err(err).Int("writes", len(batch)).Msg("sqlite: begin failed")
		failAll(err)
		return
	}
	if err := w.effects.begin(ctx, w.stmts); err != nil {
		w.abort(err, len(batch))
		failAll(err)
		return
	}
	// A lone write needs no savepoint: if it fails, rolling back the whole transaction
	// undoes exactly it. This is the common case when the server is not busy.
	solo := len(batch) == 1
	applied := 0
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err // the caller has gone: do not apply a write nobody waits for
			continue
		}
		if !j.sends && w.effects.pending() {
			if err := w.effects.flush(ctx, w.stmts); err != nil {
				w.abort(err, len(batch))
				failAll(err)
				return
			}
		}
		savepoint := !solo && !j.single
		if savepoint {
			if err := w.exec(ctx, "SAVEPOINT w"); err != nil {
				w.abort(err, len(batch))
				failAll(err)
				return
			}
		}
		errs[i] = w.apply(ctx, j.fn)
		if !savepoint {
			if errs[i] == nil {
				applied++
			}
			continue
		}
		if errs[i] != nil {
			if err := w.exec(ctx, "ROLLBACK TO w"); err != nil {
				w.abort(err, len(batch))
				failAll(err)
				return
			}
		} else {
			applied++
		}
		if err := w.exec(ctx, "RELEASE w"); err != nil {
			w.abort(err, len(batch))
			failAll(err)
			return
		}
	}
	if applied == 0 {
		// Nothing to keep (every write failed or was abandoned): end the transaction
		// without a commit, so a lone failed write leaves nothing behind.
		if err := w.exec(ctx, "ROLLBACK"); err != nil {
			w.log.Error().Err(err).Msg("sqlite: rollback failed")
		}
		answer()
		return
	}
	if err := w.effects.flush(ctx, w.stmts); err != nil {
		w.abort(err, len(batch))
		failAll(err)
		return
	}
	if w.beforeCommit != nil {
		if err := w.apply(ctx, w.beforeCommit); err != nil {
			w.abort(err, len(batch))
			failAll(err)
			return
		}
	}
	if err := w.exec(ctx, "COMMIT"); err != nil {
		w.abort(err, len(batch))
		failAll(err)
		return
	}
	w.effects.committed()
	w.batches.Add(1)
	w.writes.Add(int64(len(batch)))
	answer()
}

// exec runs a transaction-control statement through the statement cache: they run
// several times per batch, and re-parsing them each time is measurable.
func (w *writer) exec(ctx context.Context, query string) error {
	_, err := w.stmts.exec(ctx, query)
	return err
}

// apply runs fn, turning a panic into an error so one bad write cannot take down the
// goroutine every other write depends on.
func (w *writer) apply(ctx context.Context, fn jobFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error().Interface("panic", r).Msg("sqlite: write panicked")
			err = fmt.Errorf("sqlite: write panicked: %v", r)
		}
	}()
	return fn(ctx, w.stmts)
}

// abort rolls back the whole batch transaction after a failure that leaves it unusable.
func (w *writer) abort(cause error, n int) {
	w.log.Error().Err(cause).Int("writes", n).Msg("sqlite: write batch failed, rolling back")
	if err := w.exec(context.Background(), "ROLLBACK"); err != nil {
		w.log.Error().Err(err).Msg("sqlite: rollback failed")
	}
	w.effects.reset()
}

// close stops taking new writes, waits for the batch in flight to commit, then releases
// the connection.
func (w *writer) close() error {
	close(w.quit)
	<-w.done
	errS := w.stmts.close()
	errC := w.conn.Close()
	if errS != nil {
		return errS
	}
	return errC
}
