package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Parley's /metrics (Prometheus text): a few sums read before and after the measured
// window, to show GC and server-side handling time (load.js's parleyMetrics).

type parleySample struct {
	at                       time.Time
	gcCycles, gcPauseSec     *float64
	handledCount, handledSec *float64
	heapBytes, goroutines    *float64
}

var (
	reGCCount    = regexp.MustCompile(`(?m)^go_gc_duration_seconds_count (\S+)$`)
	reGCSum      = regexp.MustCompile(`(?m)^go_gc_duration_seconds_sum (\S+)$`)
	reHandledN   = regexp.MustCompile(`(?m)^parley_event_duration_seconds_count\{event="message:new"\} (\S+)$`)
	reHandledSec = regexp.MustCompile(`(?m)^parley_event_duration_seconds_sum\{event="message:new"\} (\S+)$`)
	reHeap       = regexp.MustCompile(`(?m)^go_memstats_heap_inuse_bytes (\S+)$`)
	reGoroutines = regexp.MustCompile(`(?m)^go_goroutines (\S+)$`)
)

func parleyMetrics(baseURL string, log logf) *parleySample {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/metrics", nil)
	if err != nil {
		log("metrics unavailable: %v", err)
		return nil
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log("metrics unavailable: %v", err)
		return nil
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	if err != nil {
		log("metrics unavailable: %v", err)
		return nil
	}
	pick := func(re *regexp.Regexp) *float64 {
		m := re.FindSubmatch(text)
		if m == nil {
			return nil
		}
		v, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			return nil
		}
		return &v
	}
	return &parleySample{
		at:           time.Now(),
		gcCycles:     pick(reGCCount),
		gcPauseSec:   pick(reGCSum),
		handledCount: pick(reHandledN),
		handledSec:   pick(reHandledSec),
		heapBytes:    pick(reHeap),
		goroutines:   pick(reGoroutines),
	}
}

// parleyOut is the `parley` object of load.js's output.
type parleyOut struct {
	GCCyclesPerSec  *float64 `json:"gcCyclesPerSec"`
	GCPauseMsPerSec *float64 `json:"gcPauseMsPerSec"`
	MeanHandleMs    *float64 `json:"meanHandleMs"`
	HeapInuseMiBEnd *float64 `json:"heapInuseMiBEnd"`
	GoroutinesEnd   *float64 `json:"goroutinesEnd"`
}

func parleyDeltas(m0, m1 *parleySample) *parleyOut {
	if m0 == nil || m1 == nil {
		return nil
	}
	d := func(a, b *float64) *float64 {
		if a == nil || b == nil {
			return nil
		}
		v := *b - *a
		return &v
	}
	secs := m1.at.Sub(m0.at).Seconds()
	out := &parleyOut{GoroutinesEnd: m1.goroutines}
	if v := d(m0.gcCycles, m1.gcCycles); v != nil {
		out.GCCyclesPerSec = round(*v/secs, 1)
	}
	if v := d(m0.gcPauseSec, m1.gcPauseSec); v != nil {
		out.GCPauseMsPerSec = round(*v*1000/secs, 1)
	}
	if n, s := d(m0.handledCount, m1.handledCount), d(m0.handledSec, m1.handledSec); n != nil && *n != 0 && s != nil {
		out.MeanHandleMs = round(*s / *n * 1000, 3)
	}
	if m1.heapBytes != nil {
		out.HeapInuseMiBEnd = round(*m1.heapBytes/1048576, 1)
	}
	return out
}
