package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/models"
)

// storeOp names one models.Store method for the store latency metric.
type storeOp int

// instrumentedStore times every store call into parley_store_op_duration_seconds{op},
// one histogram per method, resolved once (a call costs two clock reads and an observe).
type instrumentedStore struct {
	inner models.Store
	obs   [numStoreOps]prometheus.Observer
}

var _ models.Store = (*instrumentedStore)(nil)

func newInstrumentedStore(inner models.Store, reg prometheus.Registerer) *instrumentedStore {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_store_op_duration_seconds",
		Help:    "Time of each store operation, by operation (the models.Store method).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
	}, []string{"op"})
	reg.MustRegister(h)
	s := &instrumentedStore{inner: inner}
	for op := range s.obs {
		s.obs[op] = h.WithLabelValues(storeOpNames[op])
	}
	return s
}

func (s *instrumentedStore) observe(op storeOp, start time.Time) {
	s.obs[op].Observe(time.Since(start).Seconds())
}

// Ping, Name and Close are not timed: Ping is the readiness probe's, the others no calls
// to the database's data.
func (s *instrumentedStore) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }
func (s *instrumentedStore) Name() string                   { return s.inner.Name() }
func (s *instrumentedStore) Close() error                   { return s.inner.Close() }
