package bus

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscriptions owns the one subscriber connection (one connection, so messages from one
// publisher arrive in the order they were published, whatever their channels: a join is
// always seen before the broadcast that follows it) and what it listens to: the fixed
// channels, the channels of rooms with local sockets, and while foreign nodes are
// present the namespaces' broadcast patterns. Changes are applied by one goroutine, so
// callers never wait for Redis.
type subscriptions struct {
	b  *Bus
	ps *redis.PubSub

	mu         sync.Mutex
	fixed      []string
	nsps       []string
	desired    map[string]bool      // room channel → wanted
	applied    map[string]bool      // room channels subscribed
	unsubAt    map[string]time.Time // delayed unsubscribes
	listenAll  bool                 // wanted: the broadcast patterns
	patternsOn bool                 // applied
	// patternActive: Redis confirmed the patterns, so broadcasts are taken from them
	// (and room channels' copies ignored); switched by the confirmations, in stream order.
	patternActive bool
	requested     uint64 // room subscriptions asked for
	confirmed     uint64 // covered by a PING answered after them
	waiters       []settleWaiter
	pings         map[string]pingRound
	wake          chan struct{}
	done          chan struct{}
	started       bool
}

type settleWaiter struct {
	gen  uint64
	done chan struct{}
}

type pingRound struct{ gen uint64 }

func newSubscriptions(b *Bus) *subscriptions {
	return &subscriptions{
		b: b, desired: map[string]bool{}, applied: map[string]bool{}, unsubAt: map[string]time.Time{},
		pings: map[string]pingRound{}, wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

func (s *subscriptions) addFixed(channel string) {
	s.mu.Lock()
	s.fixed = append(s.fixed, channel)
	s.requested++
	started := s.started
	s.mu.Unlock()
	if started {
		s.kick()
	}
}

func (s *subscriptions) addNamespace(nsp string) {
	s.mu.Lock()
	s.nsps = append(s.nsps, nsp)
	s.fixed = append(s.fixed, broadcastPrefix(nsp), requestChannel(nsp), recentChannel(nsp))
	s.requested++
	s.mu.Unlock()
}

func (s *subscriptions) roomAdded(nsp, room string) {
	ch := roomChannel(nsp, room)
	s.mu.Lock()
	delete(s.unsubAt, ch)
	if !s.desired[ch] {
		s.desired[ch] = true
		if !s.applied[ch] {
			s.requested++
		}
	}
	s.mu.Unlock()
	s.kick()
}

func (s *subscriptions) roomRemoved(nsp, room string) {
	ch := roomChannel(nsp, room)
	s.mu.Lock()
	if s.desired[ch] {
		s.desired[ch] = false
		s.unsubAt[ch] = time.Now().Add(unsubscribeDelay)
	}
	s.mu.Unlock()
}

func (s *subscriptions) setListenAll(on bool) {
	s.mu.Lock()
	changed := s.listenAll != on
	s.listenAll = on
	s.mu.Unlock()
	if changed {
		if on {
			s.b.log.Info().Msg("redis: nodes other than Parley share the cluster; following every broadcast channel")
		} else {
			s.b.log.Info().Msg("redis: only Parley nodes in the cluster; following the channels of local rooms only")
		}
		s.kick()
	}
}

func (s *subscriptions) listeningToAll() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.patternActive
}

func (s *subscriptions) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriptions) start() {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	s.ps = s.b.client.Subscribe(context.Background())
	s.b.wg.Add(1)
	go s.applyLoop()
	s.kick()
}

func (s *subscriptions) close() {
	close(s.done)
	if s.ps != nil {
		_ = s.ps.Close()
	}
}

// settle waits until every subscription asked for so far is in effect (a PING on the
// subscriber connection answered after it), or ctx ends, or Redis is away.
func (s *subscriptions) settle(ctx context.Context) {
	if !s.b.Connected() {
		return
	}
	s.mu.Lock()
	if s.confirmed >= s.requested {
		s.mu.Unlock()
		return
	}
	w := settleWaiter{gen: s.requested, done: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	s.kick()
	select {
	case <-w.done:
	case <-ctx.Done():
	}
}

// applyLoop brings the subscriber connection in line with what is wanted.
func (s *subscriptions) applyLoop() {
	defer s.b.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	fixedDone := 0
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.mu.Lock()
		fixed := append([]string(nil), s.fixed[fixedDone:]...)
		var sub, unsub []string
		now := time.Now()
		for ch, want := range s.desired {
			if want && !s.applied[ch] {
				sub = append(sub, ch)
				s.applied[ch] = true
			}
		}
		for ch, at := range s.unsubAt {
			if now.After(at) {
				delete(s.unsubAt, ch)
				delete(s.desired, ch)
				if s.applied[ch] {
					unsub = append(unsub, ch)
					delete(s.applied, ch)
				}
			}
		}
		patterns := s.listenAll != s.patternsOn
		on := s.listenAll
		s.patternsOn = s.listenAll
		nsps := append([]string(nil), s.nsps...)
		gen := s.requested
		needPing := len(s.waiters) > 0
		s.mu.Unlock()

		// go-redis remembers what it subscribed to and subscribes again after a reconnect,
		// so an error here (Redis away) needs no retry of our own.
		if len(fixed) > 0 {
			_ = s.ps.Subscribe(ctx, fixed...)
			fixedDone += len(fixed)
		}
		if len(sub) > 0 {
			_ = s.ps.Subscribe(ctx, sub...)
		}
		if len(unsub) > 0 {
			_ = s.ps.Unsubscribe(ctx, unsub...)
		}
		if patterns {
			pats := make([]string, len(nsps))
			for i, n := range nsps {
				pats[i] = broadcastPattern(n)
			}
			if on {
				_ = s.ps.PSubscribe(ctx, pats...)
			} else {
				_ = s.ps.PUnsubscribe(ctx, pats...)
			}
		}
		if needPing {
			token := s.b.nextID()
			s.mu.Lock()
			s.pings[token] = pingRound{gen: gen}
			s.mu.Unlock()
			if err := s.ps.Ping(ctx, token); err != nil {
				s.mu.Lock()
				delete(s.pings, token)
				s.mu.Unlock()
				s.releaseAll()
			}
		}
		cancel()
	}
}

// onPong confirms the subscriptions asked for before the PING it answers.
func (s *subscriptions) onPong(token string) {
	s.mu.Lock()
	round, ok := s.pings[token]
	if !ok {
		s.mu.Unlock()
		return
	}
	delete(s.pings, token)
	if round.gen > s.confirmed {
		s.confirmed = round.gen
	}
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.gen <= s.confirmed {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	s.waiters = kept
	s.mu.Unlock()
}

// releaseAll lets every waiting connect go on (Redis is away: nothing to wait for).
func (s *subscriptions) releaseAll() {
	s.mu.Lock()
	for _, w := range s.waiters {
		close(w.done)
	}
	s.waiters = nil
	s.pings = map[string]pingRound{}
	s.mu.Unlock()
}

func (s *subscriptions) onSubscription(m *redis.Subscription) {
	switch m.Kind {
	case "psubscribe", "punsubscribe":
		s.mu.Lock()
		s.patternActive = m.Kind == "psubscribe"
		s.mu.Unlock()
	case "subscribe":
		// Subscriptions are (re)confirmed after every reconnect too.
	}
}

func (s *subscriptions) takingPatterns() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.patternActive
}

// receiveLoop reads the subscriber connection and routes what arrives.
func (b *Bus) receiveLoop() {
	defer b.wg.Done()
	var bo backoff
	for {
		msg, err := b.subs.ps.ReceiveTimeout(b.ctx, 5*time.Second)
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			var nerr interface{ Timeout() bool }
			if errors.As(err, &nerr) && nerr.Timeout() {
				continue
			}
			// A lost subscriber connection (Redis stopped, restarted) is a lost bus from
			// this moment: nothing published from now on reaches this node.
			b.listening.Store(false)
			b.setState(false, err)
			b.subs.releaseAll()
			b.subs.resetPatterns()
			if !b.sleep(bo.next()) {
				return
			}
			continue
		}
		bo.reset()
		switch m := msg.(type) {
		case *redis.Message:
			b.received.Add(1)
			b.route(m)
		case *redis.Subscription:
			b.listening.Store(true)
			b.subs.onSubscription(m)
		case *redis.Pong:
			b.subs.onPong(m.Payload)
		}
	}
}

// resetPatterns: after a lost connection the patterns are resubscribed by go-redis, and
// their confirmation switches patternActive on again.
func (s *subscriptions) resetPatterns() {
	s.mu.Lock()
	s.patternActive = false
	s.mu.Unlock()
}

// route sends a message to the adapter or to a handler of Parley's own channels.
func (b *Bus) route(m *redis.Message) {
	payload := []byte(m.Payload)
	for _, nsp := range b.subs.nsps {
		prefix := broadcastPrefix(nsp)
		switch {
		case m.Pattern != "":
			if m.Pattern != broadcastPattern(nsp) {
				continue
			}
			if b.subs.takingPatterns() {
				b.onBroadcast(nsp, roomOf(m.Channel, prefix), false, payload)
			}
			return
		case m.Channel == requestChannel(nsp):
			b.onRequest(nsp, payload)
			return
		case m.Channel == recentChannel(nsp):
			b.onBroadcast(nsp, "", true, payload)
			return
		case strings.HasPrefix(m.Channel, prefix):
			if !b.subs.takingPatterns() {
				b.onBroadcast(nsp, roomOf(m.Channel, prefix), false, payload)
			}
			return
		}
	}
	b.handlersMu.RLock()
	fn := b.handlers[m.Channel]
	b.handlersMu.RUnlock()
	if fn != nil {
		fn(payload)
	}
}

// roomOf is the room of a broadcast channel ("" for the namespace's own channel).
func roomOf(channel, prefix string) string {
	if len(channel) <= len(prefix) {
		return ""
	}
	return channel[len(prefix) : len(channel)-1]
}
