package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// `loadgen fanout`: the fanout scenario, the Go twin of bench/fanout.js (same flags, same
// JSON object; see fanout.js for the shape). INFLIGHT broadcasts {id, pad} are kept in
// flight over CLIENTS clients in room `r`; each is complete when every client (its sender
// too) has it. Deliveries arrive on all the reader goroutines at once: the broadcast
// bookkeeping is under one mutex, held for a map lookup and a few increments, and
// replacement broadcasts are emitted after it is released.

type broadcast struct {
	t0        time.Time
	seen      []bool
	remaining int
}

type fanoutRun struct {
	tag      string
	clients  []*Client
	nClients int
	inflight int
	bytes    int
	timeout  time.Duration
	log      logf

	phase       atomic.Int32
	disconnects atomic.Int64

	mu              sync.Mutex
	pending         map[string]*broadcast
	nextID          int
	nextSender      int
	deliveries      int // inside the window
	deliveriesTotal int
	completed       int // inside the window
	completedTotal  int
	lost            int // timed out inside the window
	lostTotal       int
	duplicates      int
	strays          int // deliveries of unknown ids (late copies of lost broadcasts, or garbage)
	badPayloads     int
	latencies       []float64
}

// emission is a broadcast to send once the mutex is released.
type emission struct {
	c       *Client
	payload []byte
}

func runFanout(args []string) {
	const tag = "loadgen fanout"
	fs := newFlags("fanout")
	url := fs.String("url", "", "server base URL")
	target := fs.String("target", "node-fanout", "")
	clients := fs.Int("clients", 200, "")
	inflight := fs.Int("inflight", 16, "")
	bytes := fs.Int("bytes", 150, "")
	seconds := fs.Float64("seconds", 10, "")
	warmup := fs.Float64("warmup", 3, "")
	pid := fs.Int("pid", 0, "server pid to sample")
	clkTck := fs.Float64("clk-tck", 100, "")
	timeoutMs := fs.Int("broadcast-timeout-ms", 10000, "")
	_ = fs.Parse(args)
	if *url == "" {
		die(tag, "--url is required")
	}
	intMin(tag, "clients", *clients, 1)
	intMin(tag, "inflight", *inflight, 1)
	intMin(tag, "bytes", *bytes, 20)
	intMin(tag, "broadcast-timeout-ms", *timeoutMs, 1)
	if !(*seconds > 0) || !(*warmup >= 0) {
		die(tag, "--seconds must be > 0 and --warmup >= 0")
	}
	wsURL, err := socketURL(strings.TrimRight(*url, "/"))
	if err != nil {
		die(tag, "--url: %v", err)
	}
	f := &fanoutRun{
		tag: tag, nClients: *clients, inflight: *inflight, bytes: *bytes,
		timeout: time.Duration(*timeoutMs) * time.Millisecond,
		log:     makeLog("fanout " + *target), pending: map[string]*broadcast{},
	}
	os.Exit(f.main(wsURL, *target, *seconds, *warmup, *pid, *clkTck))
}

// payloadFor is the JSON of broadcast id, padded to about f.bytes bytes.
func (f *fanoutRun) payloadFor(id string) []byte {
	base := len(`{"id":"","pad":""}`) + len(id)
	return []byte(`{"id":"` + id + `","pad":"` + strings.Repeat("x", max(0, f.bytes-base)) + `"}`)
}

// startLocked registers a new broadcast and returns it to emit (f.mu held).
func (f *fanoutRun) startLocked(id string) emission {
	f.pending[id] = &broadcast{t0: time.Now(), seen: make([]bool, f.nClients), remaining: f.nClients}
	c := f.clients[f.nextSender]
	f.nextSender = (f.nextSender + 1) % len(f.clients)
	return emission{c, f.payloadFor(id)}
}

// pumpLocked starts broadcasts until INFLIGHT are in flight (f.mu held).
func (f *fanoutRun) pumpLocked(out []emission) []emission {
	for f.active() && len(f.pending) < f.inflight {
		id := "b" + strconv.Itoa(f.nextID)
		f.nextID++
		out = append(out, f.startLocked(id))
	}
	return out
}

func (f *fanoutRun) active() bool {
	p := f.phase.Load()
	return p == phaseWarmup || p == phaseMeasure
}

func emitAll(es []emission) {
	for _, e := range es {
		e.c.Emit("m", e.payload, 0, nil)
	}
}

// onEvent is client i's handler: an `m` delivery.
func (f *fanoutRun) onEvent(i int) func(name, rest []byte) {
	return func(name, rest []byte) {
		if string(name) != "m" {
			return
		}
		// The id and pad must both be strings, as fanout.js checks.
		arg, _, _ := nextArg(rest)
		idRaw, _ := field(arg, "id")
		pad, _ := field(arg, "pad")
		id, idOK := unquote(idRaw)
		var es []emission
		f.mu.Lock()
		f.deliveriesTotal++
		if f.phase.Load() == phaseMeasure {
			f.deliveries++
		}
		switch b := f.pending[string(id)]; {
		case !idOK || !isString(pad):
			f.badPayloads++
		case b == nil:
			f.strays++
		case b.seen[i]:
			f.duplicates++
		default:
			b.seen[i] = true
			b.remaining--
			if b.remaining == 0 {
				delete(f.pending, string(id))
				f.completedTotal++
				if f.phase.Load() == phaseMeasure {
					f.completed++
					f.latencies = append(f.latencies, ms(time.Since(b.t0)))
				}
				es = f.pumpLocked(nil)
			}
		}
		f.mu.Unlock()
		emitAll(es)
	}
}

// sweep counts broadcasts not complete within the timeout as lost and replaces them.
func (f *fanoutRun) sweep() {
	now := time.Now()
	f.mu.Lock()
	swept := 0
	for id, b := range f.pending {
		if now.Sub(b.t0) > f.timeout {
			delete(f.pending, id)
			f.lostTotal++
			if f.phase.Load() == phaseMeasure {
				f.lost++
			}
			swept++
		}
	}
	var es []emission
	if swept > 0 {
		es = f.pumpLocked(nil)
	}
	f.mu.Unlock()
	if swept > 0 {
		f.log("%d broadcast(s) not received by every client within %d ms", swept, f.timeout.Milliseconds())
	}
	emitAll(es)
}

func (f *fanoutRun) pendingCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

type fanoutOut struct {
	Scenario     string  `json:"scenario"`
	Target       string  `json:"target"`
	Clients      int     `json:"clients"`
	Inflight     int     `json:"inflight"`
	PayloadBytes int     `json:"payloadBytes"`
	WarmupSec    float64 `json:"warmupSec"`
	cpuFigures
	Broadcasts                int      `json:"broadcasts"`
	Deliveries                int      `json:"deliveries"`
	BroadcastsPerSec          *float64 `json:"broadcastsPerSec"`
	DeliveriesPerSec          *float64 `json:"deliveriesPerSec"`
	DeliveriesPerServerCPUSec *float64 `json:"deliveriesPerServerCpuSec"`
	CompletionP50Ms           *float64 `json:"completionP50Ms"`
	CompletionP99Ms           *float64 `json:"completionP99Ms"`
	CompletionMaxMs           *float64 `json:"completionMaxMs"`
	Lost                      int      `json:"lost"`
	Duplicates                int      `json:"duplicates"`
	Strays                    int      `json:"strays"`
	BadPayloads               int      `json:"badPayloads"`
	Disconnects               int64    `json:"disconnects"`
	LeftInFlight              int      `json:"leftInFlight"`
	HWMSetupKiB               *int64   `json:"hwmSetupKiB"`
	Totals                    struct {
		Broadcasts int `json:"broadcasts"`
		Lost       int `json:"lost"`
		Deliveries int `json:"deliveries"`
	} `json:"totals"`
}

func (f *fanoutRun) main(wsURL, target string, seconds, warmup float64, pid int, clkTck float64) int {
	const setupDeadline = 60 * time.Second
	setupTimer := time.AfterFunc(setupDeadline, func() {
		die(f.tag, "setup did not finish within %d s", int(setupDeadline.Seconds()))
	})
	t0 := time.Now()
	f.clients = make([]*Client, f.nClients)
	err := pool(f.nClients, 20, func(i int) error {
		c, err := Dial(wsURL, Options{
			Auth: []byte("{}"), Timeout: 20 * time.Second, OnEvent: f.onEvent(i),
			OnDisconnect: func(reason string) {
				if f.phase.Load() != phaseDrain {
					f.disconnects.Add(1)
					f.log("a client disconnected during the run: %s", reason)
				}
			},
		})
		f.clients[i] = c
		return err
	})
	if err != nil {
		f.log("failed: %v", err)
		return 1
	}
	// A probe broadcast every client must receive proves the room is complete.
	f.mu.Lock()
	probe := f.startLocked("probe") // from client 0, not counted in the rotation
	f.nextSender = 0
	f.mu.Unlock()
	emitAll([]emission{probe})
	probeDeadline := time.Now().Add(15 * time.Second)
	for {
		f.mu.Lock()
		b := f.pending["probe"]
		f.mu.Unlock()
		if b == nil {
			break
		}
		if time.Now().After(probeDeadline) {
			f.mu.Lock()
			left := b.remaining
			f.mu.Unlock()
			die(f.tag, "a probe broadcast did not reach %d of %d clients in 15 s: "+
				"does the server join every socket to room r and broadcast each m event to r, sender included?", left, f.nClients)
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.mu.Lock()
	f.completedTotal = 0
	f.mu.Unlock()
	setupTimer.Stop()
	f.log("setup done in %.1f s: %d clients in room r, %d broadcasts in flight, %d-byte payloads",
		time.Since(t0).Seconds(), f.nClients, f.inflight, len(f.payloadFor("b0")))

	stopSweep := make(chan struct{})
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSweep:
				return
			case <-t.C:
				f.sweep()
			}
		}
	}()
	f.phase.Store(phaseWarmup)
	f.mu.Lock()
	es := f.pumpLocked(nil)
	f.mu.Unlock()
	emitAll(es)
	time.Sleep(time.Duration(warmup * float64(time.Second)))
	var hwmSetup *int64
	if pid != 0 {
		hwmSetup = resetPeakRSS(pid, f.log)
	}
	cpu := &cpuWindow{pid: pid, clkTck: clkTck}
	cpu.start()
	f.phase.Store(phaseMeasure)
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	f.phase.Store(phaseDrain)
	w := cpu.stop()

	// Let the in-flight broadcasts land (bounded), then close.
	drainDeadline := time.Now().Add(5 * time.Second)
	for f.pendingCount() > 0 && time.Now().Before(drainDeadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stopSweep)
	<-sweepDone
	for _, c := range f.clients {
		c.Close()
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	sortFloats(f.latencies)
	out := fanoutOut{
		Scenario: "fanout", Target: target, Clients: f.nClients, Inflight: f.inflight,
		PayloadBytes: len(f.payloadFor("b1000")), WarmupSec: warmup,
		cpuFigures:                w.figures(),
		Broadcasts:                f.completed,
		Deliveries:                f.deliveries,
		BroadcastsPerSec:          round(float64(f.completed)/w.secs, 0),
		DeliveriesPerSec:          round(float64(f.deliveries)/w.secs, 0),
		DeliveriesPerServerCPUSec: w.perServerCPUSec(int64(f.deliveries)),
		CompletionP50Ms:           roundp(percentile(f.latencies, 50), 2),
		CompletionP99Ms:           roundp(percentile(f.latencies, 99), 2),
		CompletionMaxMs:           roundp(maxOf(f.latencies), 2),
		Lost:                      f.lost,
		Duplicates:                f.duplicates,
		Strays:                    f.strays,
		BadPayloads:               f.badPayloads,
		Disconnects:               f.disconnects.Load(),
		LeftInFlight:              len(f.pending),
		HWMSetupKiB:               hwmSetup,
	}
	out.Totals.Broadcasts, out.Totals.Lost, out.Totals.Deliveries = f.completedTotal, f.lostTotal, f.deliveriesTotal
	printJSON(out)
	if f.lostTotal+f.duplicates+f.badPayloads > 0 || out.Disconnects > 0 {
		return 1
	}
	return 0
}
