package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// `loadgen idle`: the idle scenario, the Go twin of bench/idle.js (same flags, same JSON
// object): the server's VmRSS with no connection, then CONNS connections opened in
// batches of BATCH (a batch's connections concurrently, the next batch once it has
// settled), left idle for --seconds, then VmRSS again; per-connection memory is
// (after - before) / N, N the connections still open at the end.

type idleOut struct {
	Scenario        string   `json:"scenario"`
	Target          string   `json:"target"`
	Conns           int      `json:"conns"`
	Batch           int      `json:"batch"`
	SettleSec       float64  `json:"settleSec"`
	IdleSec         float64  `json:"idleSec"`
	Connected       int      `json:"connected"`
	OpenAtEnd       int      `json:"openAtEnd"`
	FailedConnects  int      `json:"failedConnects"`
	FirstError      *string  `json:"firstError"`
	Disconnects     int64    `json:"disconnects"`
	ConnectSec      *float64 `json:"connectSec"`
	RSSBeforeKiB    int64    `json:"rssBeforeKiB"`
	RSSConnectedKiB *int64   `json:"rssConnectedKiB"`
	RSSAfterKiB     *int64   `json:"rssAfterKiB"`
	HWMKiB          *int64   `json:"hwmKiB"`
	PerConnKiB      *float64 `json:"perConnKiB"`
	TotalPerConnKiB *float64 `json:"totalPerConnKiB"`
	cpuFigures
	LoadgenHeapMiB *float64 `json:"loadgenHeapMiB"` // the load generator's RSS, as idle.js reports
}

func runIdle(args []string) {
	const tag = "loadgen idle"
	fs := newFlags("idle")
	url := fs.String("url", "", "server base URL")
	target := fs.String("target", "parley", "")
	conns := fs.Int("conns", 5000, "")
	batch := fs.Int("batch", 250, "")
	settle := fs.Float64("settle", 2, "")
	seconds := fs.Float64("seconds", 10, "")
	pid := fs.Int("pid", 0, "server pid to measure")
	clkTck := fs.Float64("clk-tck", 100, "")
	deadlineS := fs.Int("connect-deadline-s", 180, "")
	_ = fs.Parse(args)
	if *url == "" {
		die(tag, "--url is required")
	}
	intMin(tag, "conns", *conns, 1)
	intMin(tag, "batch", *batch, 1)
	intMin(tag, "connect-deadline-s", *deadlineS, 1)
	parley := *target == "parley"
	secret := os.Getenv("BENCH_JWT_SECRET")
	switch {
	case *pid == 0:
		die(tag, "--pid is required (the server whose memory is measured)")
	case parley && secret == "":
		die(tag, "BENCH_JWT_SECRET (Parley JWT_SECRET) must be set for --target parley")
	case !(*seconds >= 0) || !(*settle >= 0):
		die(tag, "--seconds and --settle must be >= 0")
	}
	wsURL, err := socketURL(strings.TrimRight(*url, "/"))
	if err != nil {
		die(tag, "--url: %v", err)
	}
	log := makeLog("idle " + *target)
	spid := strconv.Itoa(*pid)
	sleepSec := func(s float64) { time.Sleep(time.Duration(s * float64(time.Second))) }

	sleepSec(*settle)
	rssBefore, ok := procStatusKiB(spid, "VmRSS")
	if !ok {
		die(tag, "cannot read /proc/%d/status", *pid)
	}
	run := runTag()
	auths := make([][]byte, *conns)
	for i := range auths {
		tok := fmt.Sprintf("idle-%s-%d", run, i)
		if parley {
			tok = signJWT(secret, randomID(), nil)
		}
		auths[i] = authJSON(map[string]any{"token": tok})
	}

	var (
		idle, closing atomic.Bool
		disconnects   atomic.Int64
		clients       []*Client
		failed        int
		firstError    *string
	)
	onDisconnect := func(reason string) {
		if closing.Load() {
			return
		}
		if n := disconnects.Add(1); n <= 5 {
			while := ""
			if idle.Load() {
				while = " while idle"
			}
			log("a connection dropped%s: %s", while, reason)
		}
	}
	t0 := time.Now()
	deadline := t0.Add(time.Duration(*deadlineS) * time.Second)
	for b := 0; b < *conns && time.Now().Before(deadline); b += *batch {
		n := min(*batch, *conns-b)
		got := make([]*Client, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for k := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[k], errs[k] = Dial(wsURL, Options{Auth: auths[b+k], Timeout: 30 * time.Second, OnDisconnect: onDisconnect})
			}()
		}
		wg.Wait()
		for k := range n {
			if errs[k] != nil {
				failed++
				if firstError == nil {
					msg := errs[k].Error()
					firstError = &msg
				}
				continue
			}
			clients = append(clients, got[k])
		}
	}
	connectSec := time.Since(t0).Seconds()
	msg := fmt.Sprintf("%d of %d connected in %.1f s (batches of %d)", len(clients), *conns, connectSec, *batch)
	if failed > 0 {
		msg += fmt.Sprintf("; %d failed, first: %s", failed, *firstError)
	}
	log("%s", msg)
	if len(clients) < *conns && failed == 0 {
		log("stopped at the %d s connect deadline", *deadlineS)
	}
	opt := func(v int64, ok bool) *int64 {
		if !ok {
			return nil
		}
		return &v
	}
	rssConnected := opt(procStatusKiB(spid, "VmRSS"))

	idle.Store(true)
	cpu := &cpuWindow{pid: *pid, clkTck: *clkTck}
	cpu.start()
	sleepSec(*seconds)
	w := cpu.stop()
	rssAfter := opt(procStatusKiB(spid, "VmRSS"))
	hwm := opt(procStatusKiB(spid, "VmHWM"))
	open := 0
	for _, c := range clients {
		if c.Connected() {
			open++
		}
	}
	closing.Store(true)
	for _, c := range clients {
		c.Close()
	}

	out := idleOut{
		Scenario: "idle", Target: *target, Conns: *conns, Batch: *batch, SettleSec: *settle, IdleSec: *seconds,
		Connected: len(clients), OpenAtEnd: open, FailedConnects: failed, FirstError: firstError,
		Disconnects: disconnects.Load(), ConnectSec: round(connectSec, 1),
		RSSBeforeKiB: rssBefore, RSSConnectedKiB: rssConnected, RSSAfterKiB: rssAfter, HWMKiB: hwm,
		cpuFigures: w.figures(), LoadgenHeapMiB: selfRSSMiB(),
	}
	if open > 0 && rssAfter != nil {
		out.PerConnKiB = round(float64(*rssAfter-rssBefore)/float64(open), 1)
		out.TotalPerConnKiB = round(float64(*rssAfter)/float64(open), 1)
	}
	printJSON(out)
	if open < *conns {
		os.Exit(1)
	}
}
