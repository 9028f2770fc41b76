// Package bus joins Parley nodes through Redis. It speaks the wire format of Node's
// @socket.io/redis-adapter 8.x (classic): broadcasts as MessagePack [uid, packet, opts]
// on socket.io#<nsp># and socket.io#<nsp>#<room>#, room joins and leaves as JSON
// requests on socket.io-request#<nsp>#, so Node socket.io nodes and Parley nodes can
// share one cluster. Parley's own channels (presence, cache invalidation) ride on the
// same connections.
//
// What Redis cannot do to a node: nothing here blocks the caller. Local delivery and room
// changes happen before the bus sees them; publishes go through a bounded queue (full:
// dropped and counted); a stopped or frozen Redis costs cross-node delivery only, is
// logged once per state change, and is retried with backoff; everything resumes by
// itself when Redis answers again.
//
// Listening: a Parley node subscribes to the channels of rooms it has sockets in, not to
// every broadcast. When nodes that are not Parley share the cluster (a Node cluster being
// replaced node by node), their joins can be followed at once by broadcasts to rooms
// this node was not listening to, so it listens to every broadcast channel while they
// are there.
package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/internal/socketio"
)

// Options configure a Bus.
type Options struct {
	Client *redis.Client
	Server *socketio.Server
	Log    zerolog.Logger
	// QueueSize bounds the publishes waiting for Redis (default 10,000).
	QueueSize int
	// MaxAge drops queued publishes older than this instead of sending them late
	// (default 5 s).
	MaxAge time.Duration
}

// Stats are the bus's counters, for metrics.
type Stats struct {
	Connected  bool
	QueueDepth int
	Published  uint64
	Dropped    uint64
	Received   uint64
	// ListeningToAll: foreign (non-Parley) nodes are present, so every broadcast channel
	// is followed.
	ListeningToAll bool
}

// Bus is one node's membership in the cluster.
type Bus struct {
	opts   Options
	uid    string
	client *redis.Client
	log    zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	queue     chan op
	published atomic.Uint64
	dropped   atomic.Uint64
	received  atomic.Uint64
	seq       atomic.Uint64

	connected atomic.Bool
	// listening is false from a failure of the subscriber connection until go-redis has
	// subscribed again: the bus is not connected before then, however Redis answers pings,
	// since what is published meanwhile (an invalidation) would not reach this node.
	listening atomic.Bool
	stateMu   sync.Mutex
	lastState int       // 0 unknown, 1 up, -1 down: logged on change only
	upSince   time.Time // when Redis last came (back): zero while it is away
	onState   []func(connected bool)

	subs *subscriptions

	handlersMu sync.RWMutex
	handlers   map[string]func([]byte)

	recent *recentRooms
}

// New builds a bus; call Start to connect it.
func New(opts Options) *Bus {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10_000
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Second
	}
	var u [6]byte
	_, _ = rand.Read(u[:])
	b := &Bus{
		opts:     opts,
		uid:      hex.EncodeToString(u[:]),
		client:   opts.Client,
		log:      opts.Log,
		queue:    make(chan op, opts.QueueSize),
		handlers: map[string]func([]byte){},
		recent:   newRecentRooms(),
	}
	b.subs = newSubscriptions(b)
	return b
}

// UID is this node's id on the bus (the uid of the adapter's messages).
func (b *Bus) UID() string { return b.uid }

// Handle registers a handler for a channel of Parley's own; call before Start.
func (b *Bus) Handle(channel string, fn func(payload []byte)) {
	b.handlersMu.Lock()
	b.handlers[channel] = fn
	b.handlersMu.Unlock()
	b.subs.addFixed(channel)
}

// Start connects: it subscribes to the fixed channels, learns whether foreign nodes are
// present (bounded by ctx), and starts the goroutines. It does not fail when Redis is
// down: the bus keeps trying.
func (b *Bus) Start(ctx context.Context) {
	b.ctx, b.cancel = context.WithCancel(context.Background())
	for _, ns := range b.opts.Server.Namespaces() {
		b.subs.addNamespace(ns.Name())
		for _, r := range ns.LocalRooms() {
			b.subs.roomAdded(ns.Name(), r)
		}
	}
	b.listening.Store(true) // until the subscriber connection says otherwise
	b.subs.start()
	b.wg.Add(3)
	go b.publishLoop()
	go b.receiveLoop()
	go b.monitorLoop()
	// Be listening before the node serves (when Redis is there to listen to).
	err := b.client.Ping(ctx).Err()
	b.setState(err == nil, err)
	b.subs.settle(ctx)
	b.checkPeers(ctx)
}

// Close stops the bus after sending what is queued (bounded by ctx).
func (b *Bus) Close(ctx context.Context) {
	if b.cancel == nil {
		return
	}
	// The publish loop answers a barrier only once the pipelines before it have completed,
	// so nothing queued so far is cut off by the cancel (a node's last presence
	// announcements, sent as it shuts down, were).
	b.flushed(ctx)
	b.cancel()
	b.subs.close()
	b.wg.Wait()
}

// Connected reports whether Redis answered the last health check.
func (b *Bus) Connected() bool { return b.connected.Load() }

// ConnectedFor reports whether the bus has been connected without a break for at least d:
// only then does a key's absence from Redis say something (after Redis restarted empty,
// every node needs a moment to write its keys again).
func (b *Bus) ConnectedFor(d time.Duration) bool {
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	return b.lastState == 1 && time.Since(b.upSince) >= d
}

// OnStateChange adds a function told about every change of the bus's state (Redis lost,
// Redis back); call before Start. It runs on one of the bus's goroutines: keep it short.
func (b *Bus) OnStateChange(fn func(connected bool)) {
	b.stateMu.Lock()
	b.onState = append(b.onState, fn)
	b.stateMu.Unlock()
}

// Stats returns the counters.
func (b *Bus) Stats() Stats {
	return Stats{
		Connected: b.Connected(), QueueDepth: len(b.queue),
		Published: b.published.Load(), Dropped: b.dropped.Load(), Received: b.received.Load(),
		ListeningToAll: b.subs.listeningToAll(),
	}
}

// Ping asks Redis directly (for readiness).
func (b *Bus) Ping(ctx context.Context) error { return b.client.Ping(ctx).Err() }

// setState records a health observation, logging and reporting changes only.
func (b *Bus) setState(up bool, err error) {
	b.stateMu.Lock()
	// Read under stateMu: a subscriber loss (listening stored false, then setState(false))
	// cannot be overwritten by a ping that succeeded just before it.
	if up && !b.listening.Load() {
		up, err = false, errNotListening
	}
	s := -1
	if up {
		s = 1
	}
	changed := s != b.lastState
	b.lastState = s
	if changed && up {
		b.upSince = time.Now()
	}
	b.connected.Store(up)
	fns := b.onState
	b.stateMu.Unlock()
	if !changed {
		return
	}
	if up {
		b.log.Info().Msg("redis: connected")
	} else {
		b.log.Warn().Err(err).Msg("redis: unreachable; cross-node delivery paused, retrying with backoff")
	}
	for _, fn := range fns {
		fn(up)
	}
}

// errNotListening: Redis answers, but the subscriber connection has not subscribed again.
var errNotListening = errors.New("redis answers but the bus is not subscribed yet")

// monitorLoop pings Redis every 400 ms, each ping bounded by 500 ms, so /readyz and the
// state follow a stopped or frozen Redis within a second. Peers are checked on their
// own loop, so a hung check cannot delay the next ping.
func (b *Bus) monitorLoop() {
	defer b.wg.Done()
	b.wg.Add(1)
	go b.peerLoop()
	tick := time.NewTicker(400 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 500*time.Millisecond)
		err := b.client.Ping(ctx).Err()
		cancel()
		if b.ctx.Err() != nil {
			return
		}
		b.setState(err == nil, err)
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// peerLoop re-checks every second whether nodes other than Parley share the cluster.
func (b *Bus) peerLoop() {
	defer b.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
		if b.Connected() {
			ctx, cancel := context.WithTimeout(b.ctx, time.Second)
			b.checkPeers(ctx)
			cancel()
		}
	}
}

// checkPeers compares the subscribers of the main request channel (every adapter, Node
// or Parley) with those of Parley's own channel: more of the first means foreign nodes.
func (b *Bus) checkPeers(ctx context.Context) {
	counts, err := b.client.PubSubNumSub(ctx, requestChannel("/"), recentChannel("/")).Result()
	if err != nil {
		return
	}
	foreign := counts[requestChannel("/")] > counts[recentChannel("/")]
	b.subs.setListenAll(foreign)
}

// backoff is an exponential delay for retrying Redis.
type backoff struct{ d time.Duration }

func (bo *backoff) next() time.Duration {
	if bo.d == 0 {
		bo.d = 100 * time.Millisecond
	} else if bo.d *= 2; bo.d > 2*time.Second {
		bo.d = 2 * time.Second
	}
	return bo.d
}

func (bo *backoff) reset() { bo.d = 0 }

func (b *Bus) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (b *Bus) nextID() string {
	return b.uid + "." + itoa(b.seq.Add(1))
}

func itoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}
