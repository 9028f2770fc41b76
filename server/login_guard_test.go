package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
)

func testGuard() *loginGuard {
	return newLoginGuard(config.AuthLimits{RegisterBurst: 3, RegisterPerMin: 1})
}

// fail records n failed logins for handle from addr.
func fail(t *testing.T, g *loginGuard, addr, handle string, n int, now time.Time) {
	t.Helper()
	for i := range n {
		_, v := g.begin(addr, handle, now)
		if v.refused > 0 || v.slow {
			t.Fatalf("failure %d of %s on %s: %+v, want it checked", i, addr, handle, v)
		}
	}
}

// The lockout: ten wrong passwords from an attacker's address limit that address
// on that handle only; the owner's address logs in at once.
func TestLoginGuardLimitsTheAttackersAddressNotTheOwner(t *testing.T) {
	g := testGuard()
	now := time.Unix(1_000_000, 0)
	fail(t, g, "203.0.113.9", "victim", pairFailuresBurst, now)
	if _, v := g.begin("203.0.113.9", "victim", now); v.refused <= 0 || v.limit != limitPair {
		t.Fatalf("attacker's 11th try: %+v, want refused by the per-(address, handle) limit", v)
	}
	a, v := g.begin("198.51.100.7", "victim", now)
	if v.refused > 0 || v.slow {
		t.Fatalf("owner's address: %+v, want checked at once", v)
	}
	a.giveBack(now) // right password
	// One try every 6 s keeps the attacker going at that rate, and never the owner out.
	for i := range 5 {
		now = now.Add(6 * time.Second)
		if _, v := g.begin("203.0.113.9", "victim", now); v.refused > 0 {
			t.Fatalf("attacker's paced try %d refused: %+v", i, v)
		}
		a, v := g.begin("198.51.100.7", "victim", now)
		if v.refused > 0 || v.slow {
			t.Fatalf("owner during the paced attack: %+v", v)
		}
		a.giveBack(now)
	}
}

// Failures from many addresses past the per-handle cap: addresses that failed are
// refused, a fresh address is only slowed, and a right password gives its tokens back.
func TestLoginGuardHandleCapSlowsButNeverRefusesAFreshAddress(t *testing.T) {
	g := testGuard()
	now := time.Unix(1_000_000, 0)
	for i := range handleFailuresBurst / 2 {
		fail(t, g, fmt.Sprintf("10.0.0.%d", i), "victim", 2, now)
	}
	// The cap is reached: a failed address is refused on this handle (and only this one).
	_, v := g.begin("10.0.0.1", "victim", now)
	if v.refused <= 0 || v.limit != limitHandle {
		t.Fatalf("a failed address past the cap: %+v, want refused by the handle limit", v)
	}
	if _, v := g.begin("10.0.0.1", "other", now); v.refused > 0 || v.slow {
		t.Fatalf("the same address on another handle: %+v", v)
	}
	// A fresh address (the owner) is checked, after the delay.
	a, v := g.begin("192.0.2.1", "victim", now)
	if v.refused > 0 || !v.slow {
		t.Fatalf("a fresh address past the cap: %+v, want slowed, not refused", v)
	}
	a.giveBack(now)
	a, v = g.begin("192.0.2.1", "victim", now)
	if v.refused > 0 || !v.slow {
		t.Fatalf("the owner again after a success: %+v, want still only slowed", v)
	}
	a.giveBack(now)
	// A fresh attacking address gets one slowed guess, then is refused like the others.
	g.begin("192.0.2.66", "victim", now)
	if _, v := g.begin("192.0.2.66", "victim", now); v.refused <= 0 || v.limit != limitHandle {
		t.Fatalf("a second guess from a new attacking address: %+v, want refused", v)
	}
	// Once the handle's bucket refills, addresses are back to their own limits.
	later := now.Add(time.Duration(float64(time.Second) / handleFailuresPerSec))
	if _, v := g.begin("10.0.0.1", "victim", later); v.refused > 0 || v.slow {
		t.Fatalf("after the refill: %+v", v)
	}
}

func TestLoginGuardLimitsOneAddressSprayingHandles(t *testing.T) {
	g := testGuard()
	now := time.Unix(1_000_000, 0)
	for i := range addrFailuresBurst {
		fail(t, g, "203.0.113.9", fmt.Sprint("user", i), 1, now)
	}
	_, v := g.begin("203.0.113.9", "someone_new", now)
	if v.refused <= 0 || v.limit != limitAddress {
		t.Fatalf("after %d failures on as many handles: %+v, want the address refused", addrFailuresBurst, v)
	}
	if _, v := g.begin("203.0.113.10", "someone_new", now); v.refused > 0 {
		t.Fatalf("another address: %+v", v)
	}
}

// Tokens are taken before the check, so concurrent guesses cannot all pass a check made
// before the first of them failed; a right password and a refused request give them back.
func TestLoginGuardReservesAndGivesBack(t *testing.T) {
	g := testGuard()
	now := time.Unix(1_000_000, 0)
	var held []*loginAttempt
	for range pairFailuresBurst {
		a, v := g.begin("203.0.113.9", "victim", now)
		if v.refused > 0 {
			t.Fatal("refused within the burst")
		}
		held = append(held, a)
	}
	if _, v := g.begin("203.0.113.9", "victim", now); v.refused <= 0 {
		t.Fatal("an 11th guess in flight was admitted")
	}
	for _, a := range held {
		a.giveBack(now) // all turned out right
	}
	if !g.pairs.Full("203.0.113.9\x00victim", now) || !g.addrs.Full("203.0.113.9", now) || !g.handles.Full("victim", now) {
		t.Fatal("right passwords left failures counted")
	}
}

func TestLoginGuardRegistrationsPerAddress(t *testing.T) {
	g := testGuard() // burst 3, one a minute
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if wait, _ := g.register("203.0.113.9", now); wait > 0 {
			t.Fatalf("registration %d refused", i)
		}
	}
	wait, _ := g.register("203.0.113.9", now)
	if wait <= 0 || wait > time.Minute {
		t.Fatalf("4th registration: wait %v, want refused for up to a minute", wait)
	}
	if wait, _ := g.register("203.0.113.10", now); wait > 0 {
		t.Fatal("another address was limited")
	}
	// undo gives back a registration that never ran.
	g2 := testGuard()
	for range 3 {
		_, undo := g2.register("a", now)
		undo()
	}
	if wait, _ := g2.register("a", now); wait > 0 {
		t.Fatal("undone registrations were still counted")
	}
}

// Through HTTP from one address (127.0.0.1): after the burst, even the right password is
// refused for that handle from that address, with a Retry-After; other handles are not.
func TestHTTPLoginFailuresAreLimitedPerAddressAndHandle(t *testing.T) {
	n := startNode(t)
	for _, h := range []string{"victim", "bystander"} {
		if r := n.post("/auth/register", map[string]any{"handle": h, "name": h, "password": "correct horse"}); r.status != http.StatusCreated {
			t.Fatalf("register %s: %d %s", h, r.status, r.body)
		}
	}
	for i := range pairFailuresBurst {
		if r := n.post("/auth/login", map[string]any{"handle": "victim", "password": "wrong guess"}); r.status != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d %s", i, r.status, r.body)
		}
	}
	r := n.post("/auth/login", map[string]any{"handle": "VICTIM", "password": "correct horse"})
	if r.status != http.StatusTooManyRequests || r.json["code"] != "RATE_LIMITED" {
		t.Fatalf("login after %d failures: %d %s, want 429 RATE_LIMITED", pairFailuresBurst, r.status, r.body)
	}
	if ms, _ := r.json["retryAfterMs"].(float64); ms <= 0 {
		t.Fatalf("retryAfterMs = %v", r.json["retryAfterMs"])
	}
	resp, err := http.Post(n.base+"/auth/login", "application/json", strings.NewReader(`{"handle":"victim","password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ra := resp.Header.Get("Retry-After"); resp.StatusCode != http.StatusTooManyRequests || ra == "" || ra == "0" {
		t.Fatalf("%d with Retry-After %q, want 429 with a Retry-After", resp.StatusCode, ra)
	}
	if r := n.post("/auth/login", map[string]any{"handle": "bystander", "password": "correct horse"}); r.status != http.StatusOK {
		t.Fatalf("another handle: %d %s", r.status, r.body)
	}
}
