package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/sqlite"
	"github.com/parley-chat/parley/utils"
)

// M is a decoded JSON object, as a client sees it.
type M = map[string]any

// emitted is one call on the Emitter. Payloads are kept as the JSON the socket layer
// would send, decoded again.
type emitted struct {
	Kind    string // "user", "chat", "chatExceptUser", "join", "leave"
	Target  string // user id for user/join/leave, chat id for chat/chatExceptUser
	Except  string // socket id (user, chat) or user id (chatExceptUser)
	Event   string // event name, or the chat id for join/leave
	Payload M
}

// recorder is an in-memory handlers.Emitter: the boundary to the socket layer.
type recorder struct {
	mu  sync.Mutex
	log []emitted
}

func toJSON(v any) M {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m M
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("payload %s is not an object: %v", b, err))
	}
	return m
}

func (r *recorder) add(e emitted) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, e)
}

func (r *recorder) ToUser(userID, except, event string, payload any) {
	r.add(emitted{Kind: "user", Target: userID, Except: except, Event: event, Payload: toJSON(payload)})
}
func (r *recorder) ToChat(chatID, except, event string, payload any) {
	r.add(emitted{Kind: "chat", Target: chatID, Except: except, Event: event, Payload: toJSON(payload)})
}
func (r *recorder) ToChatExceptUser(chatID, userID, event string, payload any) {
	r.add(emitted{Kind: "chatExceptUser", Target: chatID, Except: userID, Event: event, Payload: toJSON(payload)})
}
func (r *recorder) JoinChat(userID, chatID string) {
	r.add(emitted{Kind: "join", Target: userID, Event: chatID})
}
func (r *recorder) LeaveChat(userID, chatID string) {
	r.add(emitted{Kind: "leave", Target: userID, Event: chatID})
}

// take returns everything recorded since the last take and forgets it.
func (r *recorder) take() []emitted {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// clock is a deterministic Now: every call is one millisecond after the previous one, so
// orderings by time never tie.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	t        *testing.T
	store    *sqlite.Store
	rec      *recorder
	presence *utils.Presence
	typing   *utils.Typing
	clock    *clock
	h        *handlers.Handlers
	events   map[string]handlers.Event
}

// newEnv builds handlers on a real SQLite file, the real presence and typing trackers, and
// a recording emitter.
func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	e := &env{t: t, store: store, rec: &recorder{}, presence: utils.NewPresence(time.Second),
		clock: &clock{now: time.Now().UTC().Truncate(time.Millisecond)}}
	e.h = handlers.New(handlers.Deps{Store: store, Emit: e.rec, Presence: e.presence, Now: e.clock.Now, Log: zerolog.Nop()})
	e.typing = utils.NewTyping(5*time.Second, e.h.TypingStopped)
	e.h.Typing = e.typing
	e.events = map[string]handlers.Event{}
	for _, ev := range e.h.Events() {
		e.events[ev.Name] = ev
	}
	t.Cleanup(func() {
		e.typing.Close()
		e.presence.Close()
		if err := store.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	return e
}

// peer builds a second node on the same store and presence: its own handlers (and
// caches), typing tracker and recorder. Invalidations are wired both ways, as the Redis
// channel does between nodes.
func (e *env) peer() *env { return e.peerTrusting(nil) }

// peerTrusting is peer with Deps.CacheTrusted: the peer's cache is used only while trusted
// says so (the bus that carries invalidations is connected).
func (e *env) peerTrusting(trusted func() bool) *env {
	p := &env{t: e.t, store: e.store, rec: &recorder{}, presence: e.presence, clock: e.clock}
	p.h = handlers.New(handlers.Deps{Store: e.store, Emit: p.rec, Presence: e.presence, Now: e.clock.Now, Log: zerolog.Nop(), CacheTrusted: trusted})
	p.typing = utils.NewTyping(5*time.Second, p.h.TypingStopped)
	p.h.Typing = p.typing
	p.events = map[string]handlers.Event{}
	for _, ev := range p.h.Events() {
		p.events[ev.Name] = ev
	}
	p.h.Invalidate = e.h.DropCached
	e.h.Invalidate = p.h.DropCached
	e.t.Cleanup(p.typing.Close)
	return p
}

// rebuild gives a second Handlers on the same store (a restarted node: no memory).
func (e *env) rebuild() *handlers.Handlers {
	h := handlers.New(handlers.Deps{Store: e.store, Emit: e.rec, Presence: e.presence, Typing: e.typing, Now: e.clock.Now, Log: zerolog.Nop()})
	return h
}

// user creates an account and returns the caller of one of its sockets.
func (e *env) user(handle string) handlers.Caller {
	e.t.Helper()
	now := e.clock.Now()
	u := &models.User{ID: models.NewID(), Handle: handle, Name: "Name " + handle, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatalf("CreateUser %s: %v", handle, err)
	}
	return handlers.Caller{UserID: u.ID, SocketID: "sock-" + handle}
}

// connect marks callers as having a connected socket.
func (e *env) connect(cs ...handlers.Caller) {
	for _, c := range cs {
		e.presence.Connect(c.UserID)
	}
}

// raw runs an event as the socket layer does: raw JSON through the event's Handle.
func (e *env) raw(c handlers.Caller, event string, payload any) (M, *utils.AppError) {
	e.t.Helper()
	ev, ok := e.events[event]
	if !ok {
		e.t.Fatalf("no event %q", event)
	}
	var raw []byte
	switch p := payload.(type) {
	case nil:
	case string:
		raw = []byte(p)
	default:
		b, err := json.Marshal(p)
		if err != nil {
			e.t.Fatal(err)
		}
		raw = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	result, err := ev.Handle(ctx, c, raw)
	if err != nil {
		appErr, internal := utils.AsAppError(err)
		if internal {
			e.t.Fatalf("%s %s: internal error: %v", event, raw, err)
		}
		return nil, appErr
	}
	return toJSON(result), nil
}

// ok runs an event that must succeed.
func (e *env) ok(c handlers.Caller, event string, payload any) M {
	e.t.Helper()
	res, err := e.raw(c, event, payload)
	if err != nil {
		e.t.Fatalf("%s %v: %v", event, payload, err)
	}
	return res
}

// fail runs an event that must fail with code, and returns the error.
func (e *env) fail(c handlers.Caller, event string, payload any, code string) *utils.AppError {
	e.t.Helper()
	res, err := e.raw(c, event, payload)
	if err == nil {
		e.t.Fatalf("%s %v succeeded with %v, want %s", event, payload, res, code)
	}
	if err.Code != code {
		e.t.Fatalf("%s %v: %s (%s), want %s", event, payload, err.Code, err.Message, code)
	}
	return err
}

// direct opens a direct chat between a and b and returns its id.
func (e *env) direct(a, b handlers.Caller) string {
	e.t.Helper()
	return str(obj(e.ok(a, "chat:create", M{"type": "direct", "participantId": b.UserID})["chat"])["id"])
}

// group creates a group administered by admin and returns its id.
func (e *env) group(admin handlers.Caller, name string, members ...handlers.Caller) string {
	e.t.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	return str(obj(e.ok(admin, "chat:create", M{"type": "group", "name": name, "participantIds": ids})["chat"])["id"])
}

// send posts a message and returns it.
func (e *env) send(c handlers.Caller, chatID, text string) M {
	e.t.Helper()
	return obj(e.ok(c, "message:new", M{"chatId": chatID, "text": text})["message"])
}

// befriend makes a and b friends through the request flow.
func (e *env) befriend(a, b handlers.Caller) {
	e.t.Helper()
	req := obj(e.ok(a, "friend:request:send", M{"userId": b.UserID})["request"])
	e.ok(b, "friend:request:accept", M{"requestId": req["id"]})
}

func obj(v any) M {
	m, _ := v.(M)
	return m
}

func arr(v any) []any {
	a, _ := v.([]any)
	return a
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// seqs lists the seq of each message in a list.
func seqs(list any) []int64 {
	var out []int64
	for _, m := range arr(list) {
		out = append(out, num(obj(m)["seq"]))
	}
	return out
}

// only keeps the emits of one event.
func only(log []emitted, event string) []emitted {
	var out []emitted
	for _, e := range log {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

// targets summarises emits as "kind:target/except" strings.
func targets(log []emitted) map[string]int {
	out := map[string]int{}
	for _, e := range log {
		out[e.Kind+":"+e.Target+"/"+e.Except]++
	}
	return out
}

// sameNotFound checks that two errors are the identical NOT_FOUND answer.
func sameNotFound(t *testing.T, a, b *utils.AppError) {
	t.Helper()
	if a.Code != utils.CodeNotFound || b.Code != utils.CodeNotFound || a.Message != b.Message {
		t.Fatalf("the answers differ: %q/%q vs %q/%q", a.Code, a.Message, b.Code, b.Message)
	}
}
