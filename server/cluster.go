package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	rds "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/internal/bus"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/utils"
)

// Cluster keys and channels. Each node holds a lease (a key it renews) and a hash of its
// users' presence states; state changes also go out on a channel so other nodes learn them
// at once.
const (
	presenceChannel   = "parley:presence"
	invalidateChannel = "parley:invalidate"
)

func nodeKey(node string) string     { return "parley:node:" + node }
func presenceKey(node string) string { return "parley:presence:" + node }
func reapKey(node string) string     { return "parley:reap:" + node }

// cluster joins nodes through Redis: the bus carries room broadcasts and room membership
// changes (in the format of Node's redis adapter); the presence protocol here tells every
// node who is online where, and cache invalidations ride on the same bus. Nothing here
// blocks an event: announcements and invalidations are queued on the bus.
//
// Leases: every node renews its key every lease/4. A node whose key has been missing while
// this node's own connection to Redis was up for a whole lease is dead (killed, frozen,
// cut off): every node forgets its users, and exactly one (the one that takes the reap
// key) announces them offline to their contacts, stores their lastSeen and covers the
// messages they missed with notifications. After Redis comes back (possibly empty),
// every node writes its lease and presence again, announces its users again and re-reads
// the others', and no node judges a missing key before a full lease has passed.
type cluster struct {
	node     string
	client   *rds.Client
	bus      *bus.Bus
	presence *utils.Presence
	log      zerolog.Logger
	lease    time.Duration
	ctx      context.Context
	cancel   context.CancelFunc

	mu    sync.Mutex
	known map[string]struct{}

	// onInvalidate drops a cache entry another node changed.
	onInvalidate func(kind, key string)
	// onReaped is told, on the one node that reaps a dead node, which of its users are
	// now offline everywhere, and since when they may have missed messages.
	onReaped func(users []string, since time.Time)
	// resync wakes the lease loop to write and read everything again (Redis came back).
	resync chan struct{}
	// onResync runs after a return of Redis, once this node's state is written again (the
	// server re-checks its sockets' chat rooms: leaves sent meanwhile were lost).
	onResync func()
	renewals int
}

// fullRenewEvery: one renewal in this many rewrites the whole presence hash (the others
// only extend it), repairing it if an announcement was dropped.
const fullRenewEvery = 12

func newCluster(parent context.Context, redisURL string, lease time.Duration, io *socketio.Server, presence *utils.Presence, log zerolog.Logger) (*cluster, error) {
	opts, err := rds.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// Short timeouts: a frozen Redis must cost a pipeline a second or two, not the
	// default minutes of TCP retries.
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	opts.MaxRetries = -1
	opts.DialerRetries = 1 // the bus retries with its own backoff
	// Deadlines come from each call's context (the health ping's is 500 ms), not only
	// from ReadTimeout.
	opts.ContextTimeoutEnabled = true
	ctx, cancel := context.WithCancel(parent)
	client := rds.NewClient(opts)
	b := bus.New(bus.Options{Client: client, Server: io, Log: log})
	c := &cluster{
		node: b.UID(), client: client, bus: b, presence: presence, log: log, lease: lease,
		ctx: ctx, cancel: cancel, known: map[string]struct{}{}, resync: make(chan struct{}, 1),
	}
	b.Handle(presenceChannel, c.receive)
	b.Handle(invalidateChannel, c.receiveInvalidation)
	b.OnStateChange(func(up bool) {
		if up {
			select {
			case c.resync <- struct{}{}:
			default:
			}
		}
	})
	io.SetBus(b)
	presence.Announce = c.announce
	return c, nil
}

// ready is the readiness check: Redis answered the bus's last health ping.
func (c *cluster) ready(context.Context) error {
	if !c.bus.Connected() {
		return fmt.Errorf("redis not answering")
	}
	return nil
}

// start connects the bus (the presence channel is subscribed before the others' states
// are read, so no change falls between the two), then runs the lease loop until close.
func (c *cluster) start(wg *sync.WaitGroup) {
	startCtx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	c.bus.Start(startCtx)
	cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.renew(true)
		c.bootstrap()
		ticker := time.NewTicker(c.lease / 4)
		defer ticker.Stop()
		for {
			select {
			case <-c.ctx.Done():
				return
			case <-ticker.C:
				c.renewals++
				c.renew(c.renewals%fullRenewEvery == 0)
				c.watch()
			case <-c.resync:
				c.republish()
			}
		}
	}()
}

// announce queues a local presence change for the cluster.
func (c *cluster) announce(userID string, state int) {
	node := c.node
	c.bus.Do(func(ctx context.Context, pipe rds.Pipeliner) {
		if state == utils.PresenceGone {
			pipe.HDel(ctx, presenceKey(node), userID)
		} else {
			pipe.HSet(ctx, presenceKey(node), userID, state)
		}
		pipe.Publish(ctx, presenceChannel, presenceMessage(node, userID, state))
	})
}

func presenceMessage(node, userID string, state int) string {
	return node + "|" + userID + "|" + strconv.Itoa(state)
}

// nodeGoneMessage tells every node that the sender reaped a dead node: they forget its
// users at once rather than at their own next look at the leases, so presence:get on
// any node agrees with the offline updates the reaper sends right after.
func nodeGoneMessage(reaper, dead string) string { return reaper + "|" + dead }

func (c *cluster) receive(payload []byte) {
	parts := strings.Split(string(payload), "|")
	if parts[0] == c.node {
		return
	}
	if len(parts) == 2 {
		if parts[1] == c.node {
			// Judged dead while alive (frozen longer than a lease, its Redis connection
			// intact): the others have forgotten this node's users. Write and announce
			// everything again, as after a Redis outage; republish also drops the reap
			// claim, so a real death later is reaped too.
			c.log.Warn().Str("reaper", parts[0]).Msg("another node judged this one dead; announcing its users again")
			select {
			case c.resync <- struct{}{}:
			default:
			}
			return
		}
		c.forget(parts[1])
		c.presence.NodeGone(parts[1])
		return
	}
	if len(parts) != 3 {
		return
	}
	state, err := strconv.Atoi(parts[2])
	if err != nil {
		return
	}
	c.remember(parts[0])
	c.presence.Remote(parts[0], parts[1], state)
}

func (c *cluster) remember(node string) {
	c.mu.Lock()
	c.known[node] = struct{}{}
	c.mu.Unlock()
}

func (c *cluster) forget(node string) {
	c.mu.Lock()
	delete(c.known, node)
	c.mu.Unlock()
}

// bootstrap loads the presence of every live node.
func (c *cluster) bootstrap() {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	iter := c.client.Scan(ctx, 0, nodeKey("*"), 100).Iterator()
	for iter.Next(ctx) {
		node := strings.TrimPrefix(iter.Val(), nodeKey(""))
		if node == c.node {
			continue
		}
		states, err := c.client.HGetAll(ctx, presenceKey(node)).Result()
		if err != nil {
			continue
		}
		c.remember(node)
		for user, st := range states {
			if n, err := strconv.Atoi(st); err == nil {
				c.presence.Remote(node, user, n)
			}
		}
	}
	if err := iter.Err(); err != nil {
		c.log.Debug().Err(err).Msg("could not read the cluster's presence")
	}
}

// renew extends this node's lease and its presence hash (kept current by the
// announcements); full writes the hash anew from what this node holds.
func (c *cluster) renew(full bool) {
	ctx, cancel := context.WithTimeout(c.ctx, c.lease/4)
	defer cancel()
	pipe := c.client.Pipeline()
	pipe.Set(ctx, nodeKey(c.node), "1", c.lease)
	if full {
		pipe.Del(ctx, presenceKey(c.node))
		for user, st := range c.presence.LocalStates() {
			pipe.HSet(ctx, presenceKey(c.node), user, st)
		}
	}
	pipe.PExpire(ctx, presenceKey(c.node), c.lease)
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.Debug().Err(err).Msg("cluster lease")
	}
}

// republish is a node's return after Redis came back (or after the others judged it
// dead): its lease and hash again, each of its users announced again (the others may have
// lost them), then the others' read again once they have had a moment to write theirs.
func (c *cluster) republish() {
	c.renew(true)
	states := c.presence.LocalStates()
	ctx, cancel := context.WithTimeout(c.ctx, c.lease/4)
	pipe := c.client.Pipeline()
	pipe.Del(ctx, reapKey(c.node)) // a claim on this node, alive, is stale
	for user, st := range states {
		pipe.Publish(ctx, presenceChannel, presenceMessage(c.node, user, st))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.Debug().Err(err).Msg("cluster republish")
	}
	cancel()
	select {
	case <-c.ctx.Done():
		return
	case <-time.After(time.Second):
	}
	c.bootstrap()
	if c.onResync != nil {
		c.onResync()
	}
}

// watch looks for nodes whose lease expired. Nothing is judged unless this node's own
// connection has been up for a whole lease.
func (c *cluster) watch() {
	if !c.bus.ConnectedFor(c.lease) {
		return
	}
	c.mu.Lock()
	nodes := make([]string, 0, len(c.known))
	for n := range c.known {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	if len(nodes) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.lease/4)
	defer cancel()
	for _, n := range nodes {
		alive, err := c.client.Exists(ctx, nodeKey(n)).Result()
		if err != nil || alive != 0 {
			continue
		}
		c.forget(n)
		c.nodeDied(ctx, n)
	}
}

// nodeDied forgets a dead node's users here; the node that takes the reap key (one per
// dead node) also announces the ones now offline everywhere.
func (c *cluster) nodeDied(ctx context.Context, n string) {
	offline := c.presence.NodeGone(n)
	won, err := c.client.SetNX(ctx, reapKey(n), c.node, 10*c.lease).Result()
	if err != nil || !won {
		return
	}
	c.log.Warn().Str("node", n).Int("usersOffline", len(offline)).Msg("a cluster node stopped renewing its lease; its users are offline")
	// Queued before the offline updates, so it reaches the other nodes first.
	c.bus.Publish(presenceChannel, []byte(nodeGoneMessage(c.node, n)))
	if len(offline) > 0 && c.onReaped != nil {
		// Messages sent to them since the node may have stopped were neither delivered
		// nor notified.
		c.onReaped(offline, time.Now().Add(-c.lease-c.lease/4-time.Second))
	}
}

// close removes this node from the cluster so the others forget its users at once, and
// stops the bus after what it has queued.
func (c *cluster) close() {
	c.cancel() // stop the lease loop first, so it cannot write the keys back
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// The sockets are closed by now; what the other nodes hold is what was announced.
	c.bus.Close(ctx)
	announced, _ := c.client.HKeys(ctx, presenceKey(c.node)).Result()
	for _, user := range announced {
		c.client.Publish(ctx, presenceChannel, presenceMessage(c.node, user, utils.PresenceGone))
	}
	c.client.Del(ctx, nodeKey(c.node), presenceKey(c.node))
	_ = c.client.Close()
}

// invalidate tells the other nodes to drop a cached entry ("<node>|<kind>|<key>").
func (c *cluster) invalidate(kind, key string) {
	c.bus.Publish(invalidateChannel, []byte(c.node+"|"+kind+"|"+key))
}

func (c *cluster) receiveInvalidation(payload []byte) {
	parts := strings.SplitN(string(payload), "|", 3)
	if len(parts) != 3 || parts[0] == c.node || c.onInvalidate == nil {
		return
	}
	c.onInvalidate(parts[1], parts[2])
}
