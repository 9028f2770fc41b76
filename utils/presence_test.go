package utils

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// presenceLog records the callbacks of a Presence.
type presenceLog struct {
	mu        sync.Mutex
	online    []string
	offline   []string
	announced []string
	offlineCh chan string
}

func watch(p *Presence) *presenceLog {
	l := &presenceLog{offlineCh: make(chan string, 100)}
	p.OnOnline = func(u string) { l.mu.Lock(); l.online = append(l.online, u); l.mu.Unlock() }
	p.OnOffline = func(u string, at time.Time) {
		if at.IsZero() || at.Location() != time.UTC {
			panic("OnOffline without a UTC time")
		}
		l.mu.Lock()
		l.offline = append(l.offline, u)
		l.mu.Unlock()
		l.offlineCh <- u
	}
	p.Announce = func(u string, state int) {
		l.mu.Lock()
		l.announced = append(l.announced, fmt.Sprintf("%s=%d", u, state))
		l.mu.Unlock()
	}
	return l
}

func (l *presenceLog) snapshot() (online, offline, announced []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.online...), append([]string(nil), l.offline...), append([]string(nil), l.announced...)
}

// waitOffline waits, with a deadline, for OnOffline(user).
func (l *presenceLog) waitOffline(t *testing.T, user string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u := <-l.offlineCh:
			if u == user {
				return
			}
		case <-deadline:
			t.Fatalf("OnOffline(%s) did not fire", user)
		}
	}
}

func eq(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// waitFor polls cond with a deadline.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPresenceFirstSocketFiresOnlineOnce(t *testing.T) {
	p := NewPresence(time.Hour)
	defer p.Close()
	l := watch(p)
	if p.IsOnline("u") || p.Connected("u") {
		t.Fatal("a stranger is online")
	}
	p.Connect("u")
	p.Connect("u") // a second tab
	online, offline, announced := l.snapshot()
	if !eq(online, []string{"u"}) || len(offline) != 0 || !eq(announced, []string{"u=2"}) {
		t.Fatalf("online=%v offline=%v announced=%v", online, offline, announced)
	}
	if !p.IsOnline("u") || !p.Connected("u") {
		t.Fatal("a connected user is not online")
	}
	// Closing one of two tabs changes nothing.
	if last := p.Disconnect("u"); last {
		t.Fatal("Disconnect reported the last socket while another was open")
	}
	if !p.Connected("u") {
		t.Fatal("the user lost their connection with a tab still open")
	}
	if _, _, announced := l.snapshot(); !eq(announced, []string{"u=2"}) {
		t.Fatalf("announced %v after closing one tab", announced)
	}
	if got := p.LocalStates(); got["u"] != PresenceConnected || len(got) != 1 {
		t.Fatalf("LocalStates = %v", got)
	}
}

func TestPresenceLastSocketGoesOfflineAfterTheGrace(t *testing.T) {
	p := NewPresence(30 * time.Millisecond)
	defer p.Close()
	l := watch(p)
	p.Connect("u")
	start := time.Now()
	if last := p.Disconnect("u"); !last {
		t.Fatal("Disconnect of the only socket did not report the last one")
	}
	// During the grace: online, not connected, no offline yet.
	if !p.IsOnline("u") {
		t.Error("IsOnline is false during the grace")
	}
	if p.Connected("u") {
		t.Error("Connected is true during the grace")
	}
	if got := p.LocalStates(); got["u"] != PresenceGrace {
		t.Errorf("LocalStates during the grace = %v", got)
	}
	l.waitOffline(t, "u")
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Fatalf("offline after %v, before the 30ms grace", waited)
	}
	online, offline, announced := l.snapshot()
	if !eq(online, []string{"u"}) || !eq(offline, []string{"u"}) || !eq(announced, []string{"u=2", "u=1", "u=0"}) {
		t.Fatalf("online=%v offline=%v announced=%v", online, offline, announced)
	}
	if p.IsOnline("u") || p.Connected("u") || len(p.LocalStates()) != 0 {
		t.Fatal("the user is still known after going offline")
	}
	// Coming back is a new online.
	p.Connect("u")
	if online, _, _ := l.snapshot(); !eq(online, []string{"u", "u"}) {
		t.Fatalf("online = %v after coming back", online)
	}
}

func TestPresenceReconnectWithinTheGraceFiresNothing(t *testing.T) {
	p := NewPresence(30 * time.Millisecond)
	defer p.Close()
	l := watch(p)
	p.Connect("u")
	p.Disconnect("u")
	p.Connect("u") // the reload
	// A sentinel user disconnected after u's cancelled grace: once its grace is over,
	// u's would have been too.
	p.Connect("sentinel")
	p.Disconnect("sentinel")
	l.waitOffline(t, "sentinel")
	online, offline, announced := l.snapshot()
	if !eq(online, []string{"u", "sentinel"}) {
		t.Errorf("online = %v, want u once (no flicker) and the sentinel", online)
	}
	if !eq(offline, []string{"sentinel"}) {
		t.Errorf("offline = %v, want only the sentinel", offline)
	}
	if !eq(announced[:3], []string{"u=2", "u=1", "u=2"}) {
		t.Errorf("announced = %v", announced)
	}
	if !p.Connected("u") {
		t.Error("u is not connected after the reload")
	}
}

func TestPresenceRemoteNodesKeepAUserOnline(t *testing.T) {
	p := NewPresence(20 * time.Millisecond)
	defer p.Close()
	l := watch(p)

	p.Remote("node-b", "u", PresenceConnected)
	if !p.IsOnline("u") || !p.Connected("u") {
		t.Fatal("a user connected on another node is not online/connected")
	}
	// Connecting here while another node holds them: no second online.
	p.Connect("u")
	if online, _, announced := l.snapshot(); len(online) != 0 || !eq(announced, []string{"u=2"}) {
		t.Fatalf("online=%v announced=%v, want no OnOnline and one announcement", online, announced)
	}
	// Leaving here while the other node holds them: no offline after the grace.
	p.Disconnect("u")
	p.Connect("sentinel")
	p.Disconnect("sentinel")
	l.waitOffline(t, "sentinel")
	if _, offline, announced := l.snapshot(); !eq(offline, []string{"sentinel"}) || !eq(announced[:2], []string{"u=2", "u=1"}) {
		t.Fatalf("offline=%v announced=%v, want no offline for u", offline, announced)
	}
	// u's grace has ended here (its timer is as long as the sentinel's and started
	// first), so this node says gone for u, while node-b still holds them.
	waitFor(t, func() bool { _, _, a := l.snapshot(); return contains(a, "u=0") }, "u=0 announced")
	if !p.Connected("u") {
		t.Fatal("u lost the other node's connection")
	}
	// The other node's socket is in its grace: online, not connected.
	p.Remote("node-b", "u", PresenceGrace)
	if !p.IsOnline("u") || p.Connected("u") {
		t.Fatalf("remote grace: online=%v connected=%v, want true false", p.IsOnline("u"), p.Connected("u"))
	}
	p.Remote("node-b", "u", PresenceGone)
	if p.IsOnline("u") {
		t.Fatal("online after the other node said gone")
	}
	// Remote changes never fire callbacks here: the node that saw the change does.
	if online, offline, _ := l.snapshot(); len(online) != 1 || online[0] != "sentinel" || len(offline) != 1 {
		t.Fatalf("online=%v offline=%v", online, offline)
	}
}

func TestPresenceNodeGoneForgetsItsUsers(t *testing.T) {
	p := NewPresence(time.Hour)
	defer p.Close()
	p.Remote("node-b", "u", PresenceConnected)
	p.Remote("node-b", "v", PresenceGrace)
	p.Remote("node-c", "v", PresenceConnected)
	p.Remote("node-b", "w", PresenceConnected)
	p.Connect("w") // also here: not offline when node-b goes
	if gone := p.NodeGone("node-b"); !eq(gone, []string{"u"}) {
		t.Errorf("NodeGone(node-b) = %v, want the users on no other node: [u]", gone)
	}
	if p.IsOnline("u") {
		t.Error("u is online after their only node went away")
	}
	if !p.Connected("v") {
		t.Error("v lost node-c's connection when node-b went away")
	}
	if gone := p.NodeGone("node-c"); !eq(gone, []string{"v"}) {
		t.Errorf("NodeGone(node-c) = %v, want [v]", gone)
	}
	if p.IsOnline("v") {
		t.Error("v is online after every node went away")
	}
	if gone := p.NodeGone("node-never-seen"); len(gone) != 0 {
		t.Errorf("an unknown node took %v with it", gone)
	}
}

func TestPresenceLocalGraceThenRemoteHolder(t *testing.T) {
	// Grace here, the user reconnects on another node: when the grace ends this node
	// announces gone but fires no offline.
	p := NewPresence(20 * time.Millisecond)
	defer p.Close()
	l := watch(p)
	p.Connect("u")
	p.Disconnect("u")
	p.Remote("node-b", "u", PresenceConnected)
	p.Connect("sentinel")
	p.Disconnect("sentinel")
	l.waitOffline(t, "sentinel")
	_, offline, _ := l.snapshot()
	if !eq(offline, []string{"sentinel"}) {
		t.Fatalf("offline = %v, want only the sentinel", offline)
	}
	if !p.IsOnline("u") || !p.Connected("u") {
		t.Fatal("u should be online through node-b")
	}
}

func TestPresenceCloseStopsGraceTimersWithoutFiring(t *testing.T) {
	p := NewPresence(20 * time.Millisecond)
	l := watch(p)
	p.Connect("u")
	p.Disconnect("u")
	p.Close()
	// A second tracker's grace of the same length, started after, ends first or with it.
	q := NewPresence(20 * time.Millisecond)
	defer q.Close()
	ql := watch(q)
	q.Connect("sentinel")
	q.Disconnect("sentinel")
	ql.waitOffline(t, "sentinel")
	if _, offline, _ := l.snapshot(); len(offline) != 0 {
		t.Fatalf("offline fired after Close: %v", offline)
	}
}

func TestPresenceConcurrentUse(t *testing.T) {
	p := NewPresence(time.Millisecond)
	defer p.Close()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := fmt.Sprintf("u%d", i%3)
			for j := 0; j < 200; j++ {
				p.Connect(u)
				p.IsOnline(u)
				p.Remote("n", u, j%3)
				p.Connected(u)
				p.Disconnect(u)
			}
		}(i)
	}
	wg.Wait()
}

func TestPresenceEndGracesAnnouncesDeparturesAtOnce(t *testing.T) {
	p := NewPresence(time.Hour)
	defer p.Close()
	l := watch(p)
	p.Connect("u")
	p.Connect("v")
	p.Remote("node-b", "v", PresenceConnected) // v is also on another node
	p.Disconnect("u")
	p.Disconnect("v")
	if n := p.Graces(); n != 2 {
		t.Fatalf("Graces() = %d, want 2", n)
	}
	p.EndGraces()
	if n := p.Graces(); n != 0 {
		t.Fatalf("Graces() after EndGraces = %d", n)
	}
	_, offline, _ := l.snapshot()
	if !eq(offline, []string{"u"}) {
		t.Fatalf("offline = %v, want [u] (v is on node-b)", offline)
	}
}
