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
	"github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"

	"github.com/parley-chat/parley/models"
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

// cluster joins nodes through Redis: the Socket.IO adapter carries room broadcasts and
// room membership changes; the presence protocol here tells every node who is online
// where. A node that stops heartbeating is forgotten.
type cluster struct {
	node     string
	client   *rds.Client
	sio      *redis.RedisClient
	presence *utils.Presence
	log      zerolog.Logger
	ctx      context.Context
	cancel   context.CancelFunc

	mu    sync.Mutex
	known map[string]struct{}

	// onInvalidate drops a cache entry another node changed.
	onInvalidate func(kind, key string)
}

func newCluster(parent context.Context, redisURL string, presence *utils.Presence, log zerolog.Logger) (*cluster, error) {
	opts, err := rds.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	ctx, cancel := context.WithCancel(parent)
	client := rds.NewClient(opts)
	c := &cluster{
		node: models.NewID(), client: client, presence: presence, log: log,
		ctx: ctx, cancel: cancel, known: map[string]struct{}{},
	}
	c.sio = redis.NewRedisClient(ctx, client)
	c.sio.On("error", func(args ...any) {
		log.Warn().Str("error", fmt.Sprint(args...)).Msg("redis adapter")
	})
	presence.Announce = c.announce
	return c, nil
}

func (c *cluster) adapterBuilder() *adapter.RedisAdapterBuilder {
	return &adapter.RedisAdapterBuilder{Redis: c.sio, Opts: &adapter.RedisAdapterOptions{}}
}

func (c *cluster) ping(ctx context.Context) error { return c.client.Ping(ctx).Err() }

// start subscribes first, then reads the other nodes' current states, so no change falls
// between the two; then heartbeats until close.
func (c *cluster) start(wg *sync.WaitGroup) {
	sub := c.client.Subscribe(c.ctx, presenceChannel, invalidateChannel)
	wg.Add(2)
	go func() {
		// The channel closes only when the subscription does: close it on shutdown.
		<-c.ctx.Done()
		_ = sub.Close()
	}()
	go func() {
		defer wg.Done()
		for msg := range sub.Channel() {
			if msg.Channel == invalidateChannel {
				c.receiveInvalidation(msg.Payload)
			} else {
				c.receive(msg.Payload)
			}
		}
	}()
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

func (c *cluster) announce(userID string, state int) {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	pipe := c.client.Pipeline()
	if state == utils.PresenceGone {
		pipe.HDel(ctx, presenceKey(c.node), userID)
	} else {
		pipe.HSet(ctx, presenceKey(c.node), userID, state)
	}
	pipe.Publish(ctx, presenceChannel, c.node+"|"+userID+"|"+strconv.Itoa(state))
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.Warn().Err(err).Msg("could not announce presence to the cluster")
	}
}

func (c *cluster) receive(payload string) {
	parts := strings.Split(payload, "|")
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
		c.log.Warn().Err(err).Msg("could not read the cluster's presence")
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

// close removes this node from the cluster so the others forget its users at once.
func (c *cluster) close() {
	c.cancel() // stop the heartbeat first, so it cannot write the keys back
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// The sockets are closed by now; what the other nodes hold is what was announced.
	announced, _ := c.client.HKeys(ctx, presenceKey(c.node)).Result()
	for _, user := range announced {
		c.client.Publish(ctx, presenceChannel, c.node+"|"+user+"|"+strconv.Itoa(utils.PresenceGone))
	}
	c.client.Del(ctx, nodeKey(c.node), presenceKey(c.node))
	_ = c.client.Close()
}

// invalidate tells the other nodes to drop a cached entry ("<node>|<kind>|<key>").
func (c *cluster) invalidate(kind, key string) {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	if err := c.client.Publish(ctx, invalidateChannel, c.node+"|"+kind+"|"+key).Err(); err != nil {
		c.log.Warn().Err(err).Str("kind", kind).Msg("could not publish a cache invalidation; other nodes keep the entry until it expires")
	}
}

func (c *cluster) receiveInvalidation(payload string) {
	parts := strings.SplitN(payload, "|", 3)
	if len(parts) != 3 || parts[0] == c.node || c.onInvalidate == nil {
		return
	}
	c.onInvalidate(parts[1], parts[2])
}
