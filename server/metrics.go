package server

import (
	"time"

	"github.com/parley-chat/parley/internal/bus"
	"github.com/parley-chat/parley/internal/engineio"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics hangs off the Server (not the global registry), so tests can run several
// servers in one process.
type metrics struct {
	registry *prometheus.Registry
	events   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	sockets  prometheus.Gauge
	// slowConsumers counts connections closed because they stopped reading.
	slowConsumers prometheus.Counter
	// floodDisconnects counts sockets closed for sending on after RATE_LIMITED;
	// socketsRefused handshakes refused for MAX_SOCKETS_PER_USER.
	floodDisconnects prometheus.Counter
	socketsRefused   prometheus.Counter
	// reconnections counts sockets of users whose last socket here closed within
	// reconnectWindow.
	reconnections prometheus.Counter
	auth          authMetrics
	uploads       uploadMetrics
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_events_total", Help: "Client events handled, by event and result code.",
		}, []string{"event", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_event_duration_seconds", Help: "Time from receiving an event to its ack.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"event"}),
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_connected_sockets", Help: "Sockets connected to this node.",
		}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_slow_consumers_total", Help: "Connections closed because their send queue outgrew MAX_SEND_QUEUE_BYTES.",
		}),
		floodDisconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_flood_disconnects_total", Help: "Sockets disconnected because they kept sending events after RATE_LIMITED.",
		}),
		socketsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_sockets_refused_total", Help: "Handshakes refused because the user already had MAX_SOCKETS_PER_USER sockets on this node.",
		}),
		reconnections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_reconnections_total", Help: "Sockets of users whose last socket on this node had closed less than 5 minutes before.",
		}),
	}
	m.registry.MustRegister(m.events, m.latency, m.sockets, m.slowConsumers, m.floodDisconnects, m.socketsRefused, m.reconnections,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.auth = newAuthMetrics(m.registry)
	m.uploads = newUploadMetrics(m.registry)
	return m
}

// engineMetrics reads the engine's counters at each scrape.
func (m *metrics) engineMetrics(stats func() engineio.Stats, connections func() int) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_ws_writes_total", Help: "Write system calls to WebSocket connections.",
		}, func() float64 { return float64(stats().WebSocketWrites) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_ws_frames_total", Help: "WebSocket frames written (frames per write: how well writes are batched).",
		}, func() float64 { return float64(stats().WebSocketFrames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_ws_written_bytes_total", Help: "Bytes written to WebSocket connections.",
		}, func() float64 { return float64(stats().WebSocketBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_engine_sessions", Help: "Open Engine.IO sessions (connections, before and after joining a namespace).",
		}, func() float64 { return float64(connections()) }),
	)
}

// busMetrics reads the cluster bus's state and counters at each scrape.
func (m *metrics) busMetrics(stats func() bus.Stats) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_bus_connected", Help: "1 while Redis answers and the bus is subscribed, 0 otherwise.",
		}, func() float64 {
			if stats().Connected {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_bus_queue_depth", Help: "Publishes waiting to be sent to Redis (bounded at 10,000).",
		}, func() float64 { return float64(stats().QueueDepth) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_bus_published_total", Help: "Messages published to Redis.",
		}, func() float64 { return float64(stats().Published) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_bus_dropped_total", Help: "Publishes dropped: queue full, older than 5 s, or a failed pipeline (never retried).",
		}, func() float64 { return float64(stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_bus_received_total", Help: "Messages received from Redis.",
		}, func() float64 { return float64(stats().Received) }),
	)
}

// storeMetrics exports a store's group-commit counters when it has them (SQLite).
func (m *metrics) storeMetrics(store any) {
	cs, ok := store.(interface {
		CommitStats() (commits, writes int64)
	})
	if !ok {
		return
	}
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_sqlite_commits_total", Help: "SQLite transactions committed by the writer.",
		}, func() float64 { c, _ := cs.CommitStats(); return float64(c) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_sqlite_writes_total", Help: "Writes those transactions carried (writes per commit: the group commit factor).",
		}, func() float64 { _, w := cs.CommitStats(); return float64(w) }),
	)
}

func (m *metrics) observe(event, code string, d time.Duration) {
	m.events.WithLabelValues(event, code).Inc()
	m.latency.WithLabelValues(event).Observe(d.Seconds())
}

// authMetrics watch the HTTP auth routes' abuse controls (login_guard.go, hash_slots.go).
type authMetrics struct {
	hashWait    prometheus.Histogram
	hashRefused prometheus.Counter
	limited     *prometheus.CounterVec
	slowed      prometheus.Counter
	origin      prometheus.Counter
}

func newAuthMetrics(reg *prometheus.Registry) authMetrics {
	a := authMetrics{
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_auth_hash_wait_seconds", Help: "Time a register or login waited in line for a password-hashing slot.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2},
		}),
		hashRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_auth_hash_refused_total", Help: "Registers and logins answered 503 because every hashing slot and the wait line were full.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_auth_limited_total", Help: "Registers and logins answered 429, by the limit that refused them (address, address_handle, handle, register).",
		}, []string{"limit"}),
		slowed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_auth_login_slowed_total", Help: "Logins delayed because their handle's failures from all addresses reached the cap.",
		}),
		origin: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_http_origin_refused_total", Help: "State-changing HTTP requests refused 403 for an Origin outside CORS_ORIGINS.",
		}),
	}
	reg.MustRegister(a.hashWait, a.hashRefused, a.limited, a.slowed, a.origin)
	return a
}
