package handlers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parley-chat/parley/models"
)

// Cache kinds, as published to other nodes.
const (
	CacheChat  = "chat"
	CacheUser  = "user"
	CacheBlock = "block"
)

// cacheTTL bounds how long an entry lives even if an invalidation were lost on the way;
// invalidations (local, and through Redis to every node) normally drop it at once.
const cacheTTL = 30 * time.Second

// maxCacheEntries bounds each map; past it the map starts over.
const maxCacheEntries = 100_000

// readCache keeps what the hot path (message:new, typing:start) reads on every event —
// the chat with its members, the sender's profile, whether a direct partner blocks the
// sender, and for a message with mentions the members' handles — so a message costs the
// store its write and nothing else. Every change to those
// drops the entry here and, through Deps.Invalidate, on every other node.
//
// An entry is trusted only while the bus that would carry its invalidation is connected
// and has been since the entry was filled: a change made on another node during an
// outage never reaches this cache. So while trusted() is false nothing is read from or
// stored in the cache, and every change of the bus's state starts a new epoch that
// entries from the old one do not survive.
type readCache struct {
	mu      sync.Mutex
	epoch   uint64
	trusted func() bool // nil: always (a single node has no bus to lose)
	chats   map[string]cached[*models.Chat]
	users   map[string]cached[*models.User]
	blocks  map[string]cached[bool]
	// handles holds each chat's mentionIndex; it goes with the chat's entry (CacheChat).
	handles map[string]cached[*mentionIndex]
	// gen counts invalidations per key, so a load that raced an invalidation (read the old
	// value before the write, stored it after the drop) does not put the old value back.
	gen map[string]uint64
}

// cached is one entry. It needs no epoch of its own: put stores only under the current
// epoch, and reset replaces every map when it starts a new one.
type cached[T any] struct {
	v       T
	expires time.Time
}

func newReadCache() *readCache {
	return &readCache{chats: map[string]cached[*models.Chat]{}, users: map[string]cached[*models.User]{},
		blocks: map[string]cached[bool]{}, handles: map[string]cached[*mentionIndex]{}, gen: map[string]uint64{}}
}

func (c *readCache) usable() bool { return c.trusted == nil || c.trusted() }

func get[T any](c *readCache, m map[string]cached[T], key string, now time.Time) (T, bool) {
	var zero T
	if !c.usable() {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := m[key]
	if !ok || now.After(e.expires) {
		return zero, false
	}
	return e.v, true
}

// reset empties the cache and starts a new epoch: the bus went away or came back.
func (c *readCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.chats, c.users, c.blocks = map[string]cached[*models.Chat]{}, map[string]cached[*models.User]{}, map[string]cached[bool]{}
	c.handles = map[string]cached[*mentionIndex]{}
}

// cacheGen is read before loading from the store and handed to put: a load that raced
// an invalidation or an epoch change does not store what it read.
type cacheGen struct{ key, epoch uint64 }

func (c *readCache) generation(kind, key string) cacheGen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cacheGen{key: c.gen[kind+"|"+key], epoch: c.epoch}
}

func put[T any](c *readCache, m *map[string]cached[T], kind, key string, gen cacheGen, v T, now time.Time) {
	if !c.usable() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[kind+"|"+key] != gen.key || c.epoch != gen.epoch {
		return // invalidated, or the bus changed state, while loading
	}
	if len(*m) >= maxCacheEntries {
		*m = map[string]cached[T]{}
	}
	(*m)[key] = cached[T]{v: v, expires: now.Add(cacheTTL)}
}

// Drop forgets one entry; kind is CacheChat, CacheUser or CacheBlock.
func (c *readCache) drop(kind, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.gen) >= maxCacheEntries {
		// Starting over is safe only together with the maps the counters protect.
		c.gen = map[string]uint64{}
		c.chats, c.users, c.blocks = map[string]cached[*models.Chat]{}, map[string]cached[*models.User]{}, map[string]cached[bool]{}
		c.handles = map[string]cached[*mentionIndex]{}
	}
	c.gen[kind+"|"+key]++
	switch kind {
	case CacheChat:
		delete(c.chats, key)
		delete(c.handles, key)
	case CacheUser:
		delete(c.users, key)
	case CacheBlock:
		delete(c.blocks, key)
	}
}

// DropCached applies an invalidation that another node published.
func (h *Handlers) DropCached(kind, key string) { h.cache.drop(kind, key) }

// ResetCache empties the read cache; the server calls it whenever the bus that carries
// invalidations is lost or comes back.
func (h *Handlers) ResetCache() { h.cache.reset() }

// invalidate drops an entry here and on every other node.
func (h *Handlers) invalidate(kind, key string) {
	h.cache.drop(kind, key)
	if h.Invalidate != nil {
		h.Invalidate(kind, key)
	}
}

// cachedChat returns the chat from the cache or the store. Only membership, the chat's
// type and participants, and members' mutes (chat:mute drops the entry) may be read from
// it: LastSeq and LastActivity move with every message and are not kept current here.
func (h *Handlers) cachedChat(ctx context.Context, chatID string) (*models.Chat, error) {
	now := time.Now()
	if c, ok := get(h.cache, h.cache.chats, chatID, now); ok {
		return c, nil
	}
	gen := h.cache.generation(CacheChat, chatID)
	c, err := h.Store.ChatByID(ctx, chatID)
	if err != nil {
		return nil, err
	}
	put(h.cache, &h.cache.chats, CacheChat, chatID, gen, c, now)
	return c, nil
}

// cachedMemberChat is memberChat through the cache. A cached "not a member" is checked
// against the store once more, so a user just added is never refused.
func (h *Handlers) cachedMemberChat(ctx context.Context, userID, chatID string) (*models.Chat, error) {
	c, err := h.cachedChat(ctx, chatID)
	if err == nil && c.IsMember(userID) {
		return c, nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	h.cache.drop(CacheChat, chatID)
	return h.memberChat(ctx, userID, chatID)
}

// cachedUsers loads users through the cache, in no particular order.
func (h *Handlers) cachedUsers(ctx context.Context, ids []string) ([]*models.User, error) {
	now := time.Now()
	out := make([]*models.User, 0, len(ids))
	var missing []string
	for _, id := range ids {
		if u, ok := get(h.cache, h.cache.users, id, now); ok {
			out = append(out, u)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	gens := make(map[string]cacheGen, len(missing))
	for _, id := range missing {
		gens[id] = h.cache.generation(CacheUser, id)
	}
	found, err := h.Store.UsersByIDs(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, u := range found {
		put(h.cache, &h.cache.users, CacheUser, u.ID, gens[u.ID], u, now)
	}
	return append(out, found...), nil
}

func blockKey(blocker, blocked string) string { return blocker + ":" + blocked }

// isBlocked reports whether blocker blocks blocked, through the cache.
func (h *Handlers) isBlocked(ctx context.Context, blocker, blocked string) (bool, error) {
	now := time.Now()
	key := blockKey(blocker, blocked)
	if b, ok := get(h.cache, h.cache.blocks, key, now); ok {
		return b, nil
	}
	gen := h.cache.generation(CacheBlock, key)
	b, err := h.Store.IsBlocked(ctx, blocker, blocked)
	if err != nil {
		return false, err
	}
	put(h.cache, &h.cache.blocks, CacheBlock, key, gen, b, now)
	return b, nil
}
