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

// `loadgen load`: the e2e (--mode closed) and open (--mode open) scenarios, the Go twin of
// bench/load.js (same flags, same JSON object on stdout; see load.js for the shape). The
// state below is shared by the reader goroutines of all connections, hence the atomics
// and the mutex around the counted outcomes.

const (
	phaseSetup int32 = iota
	phaseWarmup
	phaseMeasure
	phaseDrain
)

type loadRun struct {
	tag, url, wsURL string
	target          string
	parley          bool
	closed          bool // mode closed (e2e) or open
	rooms, members  int
	nSenders        int
	inflight        int
	rate            float64
	textBytes       int
	pad             string // textBytes x's: a text is "<sender>:<n> " + pad, cut to textBytes
	ackTimeout      time.Duration
	secret          string
	log             logf

	phase           atomic.Int32
	deliveries      atomic.Int64 // inside the measured window
	deliveriesTotal atomic.Int64
	sentTotal       atomic.Int64
	ackedTotal      atomic.Int64
	inflightTotal   atomic.Int64
	disconnects     atomic.Int64
	ackedInWindow   atomic.Int64 // successful acks arriving in the window (both modes)

	// Counted sends: closed loop, acks arriving in the window; open loop, sends
	// scheduled in it.
	mu        sync.Mutex
	offered   int
	acked     int
	timeouts  int
	failures  map[string]int
	latencies []float64
	lags      []float64
	// Per member (its reader goroutine appends): each measured delivery's latency from
	// its send (deliveryLatency).
	deliveryLats []memberLats
	resolved     int

	// Setup only: the chat ids each member got chat:new for.
	chatMu  sync.Mutex
	chatNew []map[string]bool

	run       string
	senders   []*sender // by no; set before any send
	clients   []*Client
	roomList  []room
	stopSweep func()
}

type room struct {
	chatID  string
	clients []*Client
	first   int // index of the room's first member in loadRun.clients
}

// sentRing is how many of a sender's latest send times are kept for the delivery
// latency: far more than it ever has in flight.
const sentRing = 1024

type sentStamp struct{ n, t atomic.Int64 }

// memberLats has its own lock, taken by one reader goroutine (and once at the end),
// so recording never contends; Close does not wait for the readers to stop.
type memberLats struct {
	mu sync.Mutex
	v  []float64
}

type sender struct {
	c        *Client
	chatID   string
	no       int
	n        atomic.Int64
	sentAt   [sentRing]sentStamp // send times of the last sentRing sends, by n
	window   int64
	inflight atomic.Int64
}

func runLoad(args []string) {
	const tag = "loadgen load"
	fs := newFlags("load")
	url := fs.String("url", "", "server base URL")
	target := fs.String("target", "parley", "parley | node | node-sqlite")
	mode := fs.String("mode", "closed", "closed | open")
	rooms := fs.Int("rooms", 10, "")
	members := fs.Int("members", 20, "")
	senders := fs.Int("senders", 16, "in total")
	inflight := fs.Int("inflight", 32, "closed: in total")
	rate := fs.Float64("rate", 1000, "open: sends/s in total")
	seconds := fs.Float64("seconds", 10, "")
	warmup := fs.Float64("warmup", 3, "")
	textBytes := fs.Int("text-bytes", 100, "")
	pid := fs.Int("pid", 0, "server pid to sample")
	clkTck := fs.Float64("clk-tck", 100, "")
	ackTimeoutMs := fs.Int("ack-timeout-ms", 10000, "")
	_ = fs.Parse(args)

	if *url == "" {
		die(tag, "--url is required")
	}
	if *mode != "closed" && *mode != "open" {
		die(tag, "--mode must be closed or open")
	}
	intMin(tag, "rooms", *rooms, 1)
	intMin(tag, "members", *members, 2)
	intMin(tag, "senders", *senders, 1)
	intMin(tag, "inflight", *inflight, 1)
	intMin(tag, "text-bytes", *textBytes, 8)
	intMin(tag, "ack-timeout-ms", *ackTimeoutMs, 1)
	l := &loadRun{
		tag: tag, url: strings.TrimRight(*url, "/"), target: *target, parley: *target == "parley",
		closed: *mode == "closed", rooms: *rooms, members: *members, nSenders: *senders,
		inflight: *inflight, rate: *rate, textBytes: *textBytes, pad: strings.Repeat("x", *textBytes),
		ackTimeout: time.Duration(*ackTimeoutMs) * time.Millisecond,
		secret:     os.Getenv("BENCH_JWT_SECRET"), failures: map[string]int{},
		log: makeLog(fmt.Sprintf("load %s %s", *target, *mode)),
	}
	switch {
	case (*senders+*rooms-1) / *rooms > *members:
		die(tag, "--senders must not exceed rooms x members")
	case l.closed && *inflight < *senders:
		die(tag, "--inflight must be at least --senders (every sender keeps >= 1 in flight)")
	case !l.closed && !(*rate > 0):
		die(tag, "--rate must be > 0")
	case l.parley && *members-1 > 200:
		die(tag, "Parley groups take at most 200 other participants")
	case l.parley && l.secret == "":
		die(tag, "BENCH_JWT_SECRET (Parley JWT_SECRET) must be set for --target parley")
	case *textBytes > 4000:
		die(tag, "--text-bytes must be at most 4000")
	case !(*seconds > 0) || !(*warmup >= 0):
		die(tag, "--seconds must be > 0 and --warmup >= 0")
	}
	var err error
	if l.wsURL, err = socketURL(l.url); err != nil {
		die(tag, "--url: %v", err)
	}
	os.Exit(l.main(*seconds, *warmup, *pid, *clkTck))
}

func (l *loadRun) active() bool {
	p := l.phase.Load()
	return p == phaseWarmup || p == phaseMeasure
}

func (l *loadRun) makeSenders() []*sender {
	ss := make([]*sender, l.nSenders)
	for k := range ss {
		rm := l.roomList[k%l.rooms]
		ss[k] = &sender{c: rm.clients[k/l.rooms], chatID: rm.chatID, no: k}
		// Closed loop: INFLIGHT split as evenly as possible.
		ss[k].window = int64(l.inflight / l.nSenders)
		if k < l.inflight%l.nSenders {
			ss[k].window++
		}
	}
	return ss
}

// send emits one message:new; done runs once with the ack (or the timeout) and the time
// it came back. The caller has already counted it in s.inflight.
func (l *loadRun) send(s *sender, done func(res []byte, err error, t time.Time)) {
	n := s.n.Add(1)
	stamp := &s.sentAt[n%sentRing]
	stamp.n.Store(n)
	stamp.t.Store(time.Now().UnixNano())
	l.inflightTotal.Add(1)
	l.sentTotal.Add(1)
	text := (strconv.Itoa(s.no) + ":" + strconv.FormatInt(n, 10) + " " + l.pad)[:l.textBytes]
	clientID := l.run + "-" + strconv.Itoa(s.no) + "-" + strconv.FormatInt(n, 10)
	p := make([]byte, 0, 64+len(s.chatID)+len(text)+len(clientID))
	p = append(p, `{"chatId":`...)
	p = appendJSONString(p, s.chatID)
	p = append(p, `,"text":`...)
	p = appendJSONString(p, text)
	p = append(p, `,"clientId":`...)
	p = appendJSONString(p, clientID)
	p = append(p, '}')
	s.c.Emit("message:new", p, l.ackTimeout, func(res []byte, err error) {
		t := time.Now()
		s.inflight.Add(-1)
		l.inflightTotal.Add(-1)
		if err == nil && ackSuccess(res) {
			l.ackedTotal.Add(1)
			if l.phase.Load() == phaseMeasure {
				l.ackedInWindow.Add(1)
			}
		}
		done(res, err, t)
	})
}

func ackSuccess(res []byte) bool {
	v, ok := field(res, "success")
	return ok && truthy(v)
}

// record counts one outcome (res is valid only during the call).
func (l *loadRun) record(res []byte, err error, latencyMs float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resolved++
	switch {
	case err != nil:
		l.timeouts++
	case !ackSuccess(res):
		code := "MALFORMED" // res?.code ?? 'MALFORMED'
		if v, ok := field(res, "code"); ok && string(v) != "null" {
			if s, ok := jsonString(v); ok {
				code = s
			} else {
				code = string(v)
			}
		}
		l.failures[code]++
	default:
		l.acked++
		l.latencies = append(l.latencies, latencyMs)
	}
}

// pump keeps s's window full while the load runs. It runs on the main goroutine at the
// start and then on s's reader goroutine after each ack, possibly both at once: the
// window slot is reserved atomically before each send.
func (l *loadRun) pump(s *sender) {
	for l.active() {
		if s.inflight.Add(1) > s.window {
			s.inflight.Add(-1)
			return
		}
		t0 := time.Now()
		l.send(s, func(res []byte, err error, t1 time.Time) {
			// A closed loop counts what comes back inside the window.
			if l.phase.Load() == phaseMeasure {
				l.record(res, err, ms(t1.Sub(t0)))
			}
			l.pump(s)
		})
	}
}

// runOpen emits send j at tStart + j/rate, from sender j mod senders, until tEnd,
// whatever the acks do; the sends scheduled in [tm0, tEnd) count, their latency from the
// scheduled time. It returns when the last send is out.
func (l *loadRun) runOpen(ss []*sender, tStart, tm0, tEnd time.Time) {
	interval := float64(time.Second) / l.rate
	for j := 0; ; j++ {
		sched := tStart.Add(time.Duration(float64(j) * interval))
		if !sched.Before(tEnd) {
			return
		}
		if d := time.Until(sched); d > 0 {
			time.Sleep(d)
		}
		counted := !sched.Before(tm0)
		if counted {
			lag := ms(time.Since(sched))
			l.mu.Lock()
			l.offered++
			l.lags = append(l.lags, lag)
			l.mu.Unlock()
		}
		s := ss[j%len(ss)]
		s.inflight.Add(1)
		l.send(s, func(res []byte, err error, tAck time.Time) {
			if counted {
				l.record(res, err, ms(tAck.Sub(sched)))
			}
		})
	}
}

type loadOut struct {
	Scenario         string   `json:"scenario"`
	Target           string   `json:"target"`
	Mode             string   `json:"mode"`
	Rooms            int      `json:"rooms"`
	Members          int      `json:"members"`
	Clients          int      `json:"clients"`
	Senders          int      `json:"senders"`
	Inflight         *int     `json:"inflight"`
	WindowsPerSender []int64  `json:"windowsPerSender"`
	RateOffered      *float64 `json:"rateOffered"`
	TextBytes        int      `json:"textBytes"`
	WarmupSec        float64  `json:"warmupSec"`
	cpuFigures
	Offered                   *int           `json:"offered"`
	Acked                     int            `json:"acked"`
	AckedInWindow             int64          `json:"ackedInWindow"`
	Deliveries                int64          `json:"deliveries"`
	MsgsPerSec                *float64       `json:"msgsPerSec"`
	DeliveriesPerSec          *float64       `json:"deliveriesPerSec"`
	AckedPerServerCPUSec      *float64       `json:"ackedPerServerCpuSec"`
	DeliveriesPerServerCPUSec *float64       `json:"deliveriesPerServerCpuSec"`
	DeliveriesPerAck          *float64       `json:"deliveriesPerAck"`
	ExpectedDeliveriesPerAck  int            `json:"expectedDeliveriesPerAck"`
	AckP50Ms                  *float64       `json:"ackP50Ms"`
	AckP99Ms                  *float64       `json:"ackP99Ms"`
	AckMaxMs                  *float64       `json:"ackMaxMs"`
	DeliveryP50Ms             *float64       `json:"deliveryP50Ms"` // send -> each other member's receipt
	DeliveryP99Ms             *float64       `json:"deliveryP99Ms"`
	LatencyFrom               string         `json:"latencyFrom"`
	SendLagP99Ms              *float64       `json:"sendLagP99Ms"`
	SendLagMaxMs              *float64       `json:"sendLagMaxMs"`
	Timeouts                  int            `json:"timeouts"`
	Failures                  map[string]int `json:"failures"`
	Failed                    int            `json:"failed"`
	Unresolved                int            `json:"unresolved"`
	Disconnects               int64          `json:"disconnects"`
	HWMSetupKiB               *int64         `json:"hwmSetupKiB"`
	Totals                    struct {
		Sent       int64 `json:"sent"`
		Acked      int64 `json:"acked"`
		Deliveries int64 `json:"deliveries"`
	} `json:"totals"`
	Parley *parleyOut `json:"parley,omitempty"`
}

func (l *loadRun) main(seconds, warmup float64, pid int, clkTck float64) int {
	// Setup must not hang a benchmark: everything before the load has its own deadline.
	const setupDeadline = 90 * time.Second
	setupTimer := time.AfterFunc(setupDeadline, func() {
		die(l.tag, "setup did not finish within %d s", int(setupDeadline.Seconds()))
	})
	tSetup := time.Now()
	if err := l.setup(); err != nil {
		l.log("failed: %v", err)
		return 1
	}
	setupTimer.Stop()
	defer l.stopSweep()
	ss := l.makeSenders()
	l.senders = ss
	shape := fmt.Sprintf("%d in flight", l.inflight)
	if !l.closed {
		shape = fmt.Sprintf("%g sends/s offered", l.rate)
	}
	l.log("setup done in %.1f s: %d rooms x %d members, %d senders, %s", time.Since(tSetup).Seconds(), l.rooms, l.members, l.nSenders, shape)

	cpu := &cpuWindow{pid: pid, clkTck: clkTck}
	var m0, m1 *parleySample
	var hwmSetup *int64
	var w windowResult
	sleepSec := func(s float64) { time.Sleep(time.Duration(s * float64(time.Second))) }
	if l.closed {
		l.phase.Store(phaseWarmup)
		for _, s := range ss {
			l.pump(s)
		}
		sleepSec(warmup)
		if l.parley {
			m0 = parleyMetrics(l.url, l.log)
		}
		if pid != 0 {
			hwmSetup = resetPeakRSS(pid, l.log)
		}
		cpu.start()
		l.phase.Store(phaseMeasure)
		sleepSec(seconds)
		l.phase.Store(phaseDrain)
		w = cpu.stop()
	} else {
		tBegin := time.Now().Add(20 * time.Millisecond)
		tm0 := tBegin.Add(time.Duration(warmup * float64(time.Second)))
		tm1 := tm0.Add(time.Duration(seconds * float64(time.Second)))
		l.phase.Store(phaseWarmup)
		schedDone := make(chan struct{})
		go func() {
			l.runOpen(ss, tBegin, tm0, tm1)
			close(schedDone)
		}()
		// Parley's metrics a little before the window, off the path of the window's
		// start: an HTTP call to a loaded server can take a while.
		metricsDone := make(chan struct{})
		go func() {
			defer close(metricsDone)
			if l.parley {
				time.Sleep(time.Until(tm0.Add(-500 * time.Millisecond)))
				m0 = parleyMetrics(l.url, l.log)
			}
		}()
		time.Sleep(time.Until(tm0))
		if pid != 0 {
			hwmSetup = resetPeakRSS(pid, l.log)
		}
		cpu.start()
		l.phase.Store(phaseMeasure)
		time.Sleep(time.Until(tm1))
		<-schedDone
		l.phase.Store(phaseDrain)
		w = cpu.stop()
		<-metricsDone
	}
	if l.parley {
		m1 = parleyMetrics(l.url, l.log)
	}

	// Let the in-flight sends finish (bounded by the ack timeout), then close.
	drainDeadline := time.Now().Add(l.ackTimeout + 2*time.Second)
	for l.inflightTotal.Load() > 0 && time.Now().Before(drainDeadline) {
		time.Sleep(10 * time.Millisecond)
	}
	l.mu.Lock()
	unresolved := 0
	if !l.closed {
		unresolved = l.offered - l.resolved
	}
	l.mu.Unlock()
	for _, c := range l.clients {
		c.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	secs := w.secs
	sortFloats(l.latencies)
	sortFloats(l.lags)
	var delivLats []float64
	for i := range l.deliveryLats {
		m := &l.deliveryLats[i]
		m.mu.Lock()
		delivLats = append(delivLats, m.v...)
		m.mu.Unlock()
	}
	sortFloats(delivLats)
	ackedInWindow := l.ackedInWindow.Load()
	deliveries := l.deliveries.Load()
	out := loadOut{
		Scenario: "open", Target: l.target, Mode: "open", Rooms: l.rooms, Members: l.members,
		Clients: l.rooms * l.members, Senders: l.nSenders, TextBytes: l.textBytes, WarmupSec: warmup,
		cpuFigures:                w.figures(),
		Acked:                     l.acked,
		AckedInWindow:             ackedInWindow,
		Deliveries:                deliveries,
		MsgsPerSec:                round(float64(ackedInWindow)/secs, 0),
		DeliveriesPerSec:          round(float64(deliveries)/secs, 0),
		AckedPerServerCPUSec:      w.perServerCPUSec(ackedInWindow),
		DeliveriesPerServerCPUSec: w.perServerCPUSec(deliveries),
		DeliveriesPerAck:          round(float64(deliveries)/float64(max(1, ackedInWindow)), 2),
		ExpectedDeliveriesPerAck:  l.members - 1,
		AckP50Ms:                  roundp(percentile(l.latencies, 50), 2),
		AckP99Ms:                  roundp(percentile(l.latencies, 99), 2),
		AckMaxMs:                  roundp(maxOf(l.latencies), 2),
		DeliveryP50Ms:             roundp(percentile(delivLats, 50), 2),
		DeliveryP99Ms:             roundp(percentile(delivLats, 99), 2),
		LatencyFrom:               "scheduled send time",
		Timeouts:                  l.timeouts,
		Failures:                  l.failures,
		Unresolved:                unresolved,
		Disconnects:               l.disconnects.Load(),
		HWMSetupKiB:               hwmSetup,
		Parley:                    parleyDeltas(m0, m1),
	}
	if l.closed {
		out.Scenario, out.Mode, out.LatencyFrom = "e2e", "closed", "emit"
		out.Inflight = &l.inflight
		seen := map[int64]bool{}
		for _, s := range ss {
			if !seen[s.window] {
				seen[s.window] = true
				out.WindowsPerSender = append(out.WindowsPerSender, s.window)
			}
		}
	} else {
		out.RateOffered = &l.rate
		out.Offered = &l.offered
		out.SendLagP99Ms = roundp(percentile(l.lags, 99), 2)
		out.SendLagMaxMs = roundp(maxOf(l.lags), 2)
	}
	out.Failed = l.timeouts + unresolved
	for _, n := range l.failures {
		out.Failed += n
	}
	out.Totals.Sent, out.Totals.Acked, out.Totals.Deliveries = l.sentTotal.Load(), l.ackedTotal.Load(), l.deliveriesTotal.Load()
	printJSON(out)
	if out.Failed > 0 || out.Disconnects > 0 {
		return 1
	}
	return 0
}
