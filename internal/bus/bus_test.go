package bus

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/testsvc"
)

func TestBroadcastReachesOtherNodesWithExcept(t *testing.T) {
	r := testsvc.RedisServer(t)
	a, b := startNode(t, r), startNode(t, r)
	ca := a.connect(t, "r")
	cb := b.connect(t, "r")
	cx := b.connect(t, "r", "vip")
	b.bus.Settle(context.Background())
	emit(a, []string{"r"}, []string{ca.id}, "m", `{"n":1}`)
	emit(a, []string{"r"}, []string{"vip"}, "m", `{"n":2}`)
	if got := cb.Next(); got != `42["m",{"n":1}]` {
		t.Fatalf("b got %q", got)
	}
	if got := cb.Next(); got != `42["m",{"n":2}]` {
		t.Fatalf("b got %q", got)
	}
	if got := cx.Next(); got != `42["m",{"n":1}]` {
		t.Fatalf("vip got %q", got)
	}
	// The sender is left out of the first on its own node too; the vip socket skips the
	// second.
	emit(a, []string{"r"}, nil, "marker", `0`)
	if got := ca.Next(); got != `42["m",{"n":2}]` {
		t.Fatalf("the sender got %q first", got)
	}
	if got := ca.Next(); got != `42["marker",0]` {
		t.Fatalf("the sender got %q where the marker belonged", got)
	}
	if got := cx.Next(); got != `42["marker",0]` {
		t.Fatalf("vip got %q where the marker belonged", got)
	}
}

func TestANodeListensOnlyToItsRooms(t *testing.T) {
	r := testsvc.RedisServer(t)
	a, b := startNode(t, r), startNode(t, r)
	a.connect(t, "busy")
	cb := b.connect(t, "quiet")
	b.bus.Settle(context.Background())
	before := b.bus.Stats().Received
	for i := 0; i < 200; i++ {
		emit(a, []string{"busy"}, nil, "m", `1`)
	}
	emit(a, []string{"quiet"}, nil, "marker", `1`) // b listens to this room
	if got := cb.Next(); got != `42["marker",1]` {
		t.Fatalf("got %q", got)
	}
	if n := b.bus.Stats().Received - before; n > 5 {
		t.Fatalf("node b received %d messages for a room it has no socket in", n)
	}
}

// A broadcast published right after a join reaches the joined socket even though its
// node starts listening to the room only when the join arrives: the recent channel
// carries a second copy, delivered once.
func TestJoinThenBroadcastIsNeverMissed(t *testing.T) {
	r := testsvc.RedisServer(t)
	a, b := startNode(t, r), startNode(t, r)
	cb := b.connect(t, "user:u")
	b.bus.Settle(context.Background())
	const rounds = 200
	for i := 0; i < rounds; i++ {
		room := fmt.Sprintf("chat:%d", i)
		a.ns.SocketsJoin(socketio.BroadcastOptions{Rooms: []string{"user:u"}}, room)
		emit(a, []string{room}, nil, "m", fmt.Sprint(i))
	}
	for i := 0; i < rounds; i++ {
		if got, want := cb.Next(), fmt.Sprintf(`42["m",%d]`, i); got != want {
			t.Fatalf("round %d: got %q, want %q", i, got, want)
		}
	}
	emit(a, []string{"user:u"}, nil, "marker", `0`)
	if got := cb.Next(); got != `42["marker",0]` {
		t.Fatalf("a duplicate arrived: %q", got)
	}
}

func TestRedisStoppedAndRestarted(t *testing.T) {
	r := testsvc.RedisServer(t)
	a, b := startNode(t, r), startNode(t, r)
	ca := a.connect(t, "r")
	cb := b.connect(t, "r")
	b.bus.Settle(context.Background())
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	// Local delivery and broadcasting go on at once, however long Redis is away.
	start := time.Now()
	for i := 0; i < 2000; i++ {
		emit(a, []string{"r"}, nil, "m", fmt.Sprint(i))
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("2,000 broadcasts took %v with Redis down", d)
	}
	for i := 0; i < 2000; i++ {
		if got := ca.Next(); got != fmt.Sprintf(`42["m",%d]`, i) {
			t.Fatalf("local delivery %d: %q", i, got)
		}
	}
	waitFor(t, 2*time.Second, "the bus to notice Redis is gone", func() bool { return !a.bus.Connected() })
	drain(cb)

	if err := r.Start(); err != nil { // back, and empty
		t.Fatal(err)
	}
	// Broadcasts queued while Redis was away (younger than MaxAge) may still arrive, each
	// once, before the new ones.
	back := time.Now()
	seen := map[string]bool{}
	for {
		if time.Since(back) > 5*time.Second {
			t.Fatal("cross-node delivery did not resume within 5 s of Redis returning")
		}
		emit(a, []string{"r"}, nil, "after", `1`)
		got := cb.NextWithin(100 * time.Millisecond)
		for got != "" && !strings.HasPrefix(got, `42["after"`) {
			if seen[got] {
				t.Fatalf("%s was delivered twice", got)
			}
			seen[got] = true
			got = cb.NextWithin(10 * time.Millisecond)
		}
		if got != "" {
			break
		}
	}
}

func TestRedisFrozen(t *testing.T) {
	r := testsvc.RedisServer(t)
	a, b := startNode(t, r), startNode(t, r)
	ca := a.connect(t, "r")
	cb := b.connect(t, "r")
	b.bus.Settle(context.Background())
	if err := r.Freeze(); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	for i := 0; time.Since(frozen) < 3*time.Second; i++ {
		start := time.Now()
		emit(a, []string{"r"}, nil, "m", fmt.Sprint(i))
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("a broadcast took %v with Redis frozen", d)
		}
		if got := ca.Next(); got != fmt.Sprintf(`42["m",%d]`, i) {
			t.Fatalf("local delivery: %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, 2*time.Second, "the bus to notice Redis is frozen", func() bool { return !a.bus.Connected() })
	if err := r.Thaw(); err != nil {
		t.Fatal(err)
	}
	thawed := time.Now()
	seen := map[string]int{}
	for {
		if time.Since(thawed) > 5*time.Second {
			t.Fatal("cross-node delivery did not resume within 5 s of Redis thawing")
		}
		emit(a, []string{"r"}, nil, "after", `1`)
		got := cb.NextWithin(100 * time.Millisecond)
		if strings.HasPrefix(got, `42["after"`) {
			break
		}
		if got != "" {
			if seen[got]++; seen[got] > 1 {
				t.Fatalf("%s was delivered twice", got)
			}
		}
	}
	if a.bus.Stats().Dropped == 0 {
		t.Log("nothing was dropped while Redis was frozen (the queue held it all)")
	}
}

// A broadcast published by a Node socket.io node (notepack bytes, as the adapter writes
// them) reaches a Parley socket with the JSON a Node node would send, attachment included.
func TestNodeAdapterBroadcastIsDelivered(t *testing.T) {
	r := testsvc.RedisServer(t)
	b := startNode(t, r)
	cb := b.connect(t, "room-1")
	b.bus.Settle(context.Background())
	raw, _ := hex.DecodeString(notepackBroadcast)
	rc := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rc.Close()
	if err := rc.Publish(context.Background(), "socket.io#/#room-1#", raw).Err(); err != nil {
		t.Fatal(err)
	}
	want := `451-["peer:event",{"n":1,"s":"é\"x","f":1.5,"big":12345678901,"neg":-7,"arr":[true,false,null],"nested":{"k":[]},"d":"1970-01-01T00:00:00.000Z"},{"_placeholder":true,"num":0}]`
	if got := cb.Next(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := cb.Next(); got != "bin:\x01\x02\x03" {
		t.Fatalf("attachment %q", got)
	}
	// The node now knows a Node node shares the cluster and follows every broadcast.
	waitFor(t, 2*time.Second, "listening to every broadcast channel", func() bool { return b.bus.Stats().ListeningToAll })
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func drain(c *client) {
	for c.NextWithin(50*time.Millisecond) != "" {
	}
}
