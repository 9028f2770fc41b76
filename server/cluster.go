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

// Cluster keys. Each node keeps a heartbeat key and a hash of its users' presence states;
// state changes also go out on a channel so other nodes learn them at once.
const (
	presenceChannel   = "parley:presence"
	invalidateChannel = "parley:invalidate"
	heartbeatEvery    = 5 * time.Second
	heartbeatTTL      = 15 * time.Second
)

func nodeKey(node string) string     { return "parley:node:" + node }
func presenceKey(node string) string { return "parley:presence:" + node }

// cluster joins nodes through Redis: the bus carries room broadcasts and room membership
// changes (in the format of Node's redis adapter); the presence protocol here tells every
// node who is online where, and cache invalidations ride on the same bus. A node that
// stops heartbeating is forgotten. Nothing here blocks an event: announcements and
// invalidations are queued on the bus.
type cluster struct {
	node     string
	client   *rds.Client
	bus      *bus.Bus
	presence *utils.Presence
	log      zerolog.Logger
	ctx      context.Context
	cancel   context.CancelFunc

	mu    sync.Mutex
	known map[string]struct{}

	// onInvalidate drops a cache entry another node changed.
	onInvalidate func(kind, key string)
}

func newCluster(parent context.Context, redisURL string, io *socketio.Server, presence *utils.Presence, log zerolog.Logger) (*cluster, error) {
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
		node: b.UID(), client: client, bus: b, presence: presence, log: log,
		ctx: ctx, cancel: cancel, known: map[string]struct{}{},
	}
	b.Handle(presenceChannel, c.receive)
	b.Handle(invalidateChannel, c.receiveInvalidation)
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

// start connects the bus, then reads the other nodes' current states (the presence
// channel is subscribed first, so no change falls between the two), then heartbeats
// until close.
func (c *cluster) start(wg *sync.WaitGroup) {
	startCtx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	c.bus.Start(startCtx)
	cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.bootstrap()
		ticker := time.NewTicker(heartbeatEvery)
		defer ticker.Stop()
		for {
			c.heartbeat()
			select {
			case <-c.ctx.Done():
				return
			case <-ticker.C:
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
		pipe.Publish(ctx, presenceChannel, node+"|"+userID+"|"+strconv.Itoa(state))
	})
}

func (c *cluster) receive(payload []byte) {
	parts := strings.Split(string(payload), "|")
	if len(parts) != 3 || parts[0] == c.node {
		return
	}
	state, err := strconv.Atoi(parts[2])
	if err != nil {
		return
	}
	c.mu.Lock()
	c.known[parts[0]] = struct{}{}
	c.mu.Unlock()
	c.presence.Remote(parts[0], parts[1], state)
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
		c.mu.Lock()
		c.known[node] = struct{}{}
		c.mu.Unlock()
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

// heartbeat refreshes this node's keys (re-publishing its states if Redis lost them) and
// forgets nodes whose heartbeat expired.
func (c *cluster) heartbeat() {
	ctx, cancel := context.WithTimeout(c.ctx, 3*time.Second)
	defer cancel()
	if err := c.client.Set(ctx, nodeKey(c.node), "1", heartbeatTTL).Err(); err != nil {
		c.log.Debug().Err(err).Msg("cluster heartbeat")
		return
	}
	states := c.presence.LocalStates()
	pipe := c.client.Pipeline()
	pipe.Del(ctx, presenceKey(c.node))
	for user, st := range states {
		pipe.HSet(ctx, presenceKey(c.node), user, st)
	}
	pipe.Expire(ctx, presenceKey(c.node), heartbeatTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.Debug().Err(err).Msg("cluster presence refresh")
	}
	c.mu.Lock()
	nodes := make([]string, 0, len(c.known))
	for n := range c.known {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	for _, n := range nodes {
		alive, err := c.client.Exists(ctx, nodeKey(n)).Result()
		if err == nil && alive == 0 {
			c.presence.NodeGone(n)
			c.mu.Lock()
			delete(c.known, n)
			c.mu.Unlock()
		}
	}
}

// close removes this node from the cluster so the others forget its users at once, and
// stops the bus after what it has queued.
func (c *cluster) close() {
	c.cancel() // stop the heartbeat first, so it cannot write the keys back
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// The sockets are closed by now; what the other nodes hold is what was announced.
	c.bus.Close(ctx)
	announced, _ := c.client.HKeys(ctx, presenceKey(c.node)).Result()
	for _, user := range announced {
		c.client.Publish(ctx, presenceChannel, c.node+"|"+user+"|"+strconv.Itoa(utils.PresenceGone))
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
