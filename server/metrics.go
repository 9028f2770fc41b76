package server

import (
	"time"

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
	}
	m.registry.MustRegister(m.events, m.latency, m.sockets, m.slowConsumers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(event, code string, d time.Duration) {
	m.events.WithLabelValues(event, code).Inc()
	m.latency.WithLabelValues(event).Observe(d.Seconds())
}
