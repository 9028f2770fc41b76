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
	}
	m.registry.MustRegister(m.events, m.latency, m.sockets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(event, code string, d time.Duration) {
	m.events.WithLabelValues(event, code).Inc()
	m.latency.WithLabelValues(event).Observe(d.Seconds())
}
