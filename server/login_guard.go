package server

import (
	"time"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/utils"
)

// Login limits. Failures are counted under three keys, so that an attacker's failures
// limit the attacker and not the account's owner (failures counted per handle alone
// let ten wrong passwords from anywhere lock the owner out).
const (
	// Per (address, handle): a burst of 10, then one every 6 s. Guessing one account's
	// password from one address slows to a crawl; a user who mistypes is not bothered.
	pairFailuresBurst  = 10
	pairFailuresPerSec = 1.0 / 6
	// Per address, whatever the handle: one address spraying passwords across accounts.
	// Generous, as offices and carriers put many people behind one address.
	addrFailuresBurst  = 50
	addrFailuresPerSec = 1.0 / 2
	// Per handle, from every address: beyond this the handle is under a distributed
	// attack. Then an address that failed on it recently is refused, and any other is
	// checked after handleUnderAttackDelay: the owner still gets in (slower), and each
	// attacking address loses its burst (one guess per refill of its own bucket, 6 s).
	handleFailuresBurst    = 20
	handleFailuresPerSec   = 1.0 / 6
	handleUnderAttackDelay = time.Second
	// Keys remembered per limiter (a few MB each at most).
	maxLimitedKeys = 100_000
)

// Which limit refused a request (the label of parley_auth_limited_total).
const (
	limitAddress  = "address"
	limitPair     = "address_handle"
	limitHandle   = "handle"
	limitRegister = "register"
)

// loginGuard limits failed logins and registrations, in this process (each node guards
// its own). Keys are client addresses (limitKey) and lower-case handles; nothing depends
// on whether the handle exists, so the answers for a wrong handle and a wrong password
// stay the same.
type loginGuard struct {
	addrs     *utils.KeyedLimiter
	pairs     *utils.KeyedLimiter
	handles   *utils.KeyedLimiter
	registers *utils.KeyedLimiter
}

func newLoginGuard(a config.AuthLimits) *loginGuard {
	return &loginGuard{
		addrs:     utils.NewKeyedLimiter(addrFailuresPerSec, addrFailuresBurst, maxLimitedKeys),
		pairs:     utils.NewKeyedLimiter(pairFailuresPerSec, pairFailuresBurst, maxLimitedKeys),
		handles:   utils.NewKeyedLimiter(handleFailuresPerSec, handleFailuresBurst, maxLimitedKeys),
		registers: utils.NewKeyedLimiter(a.RegisterPerMin/60, a.RegisterBurst, maxLimitedKeys),
	}
}

// loginAttempt holds the tokens one login took up front (so concurrent guesses cannot all
// pass a check made before any of them failed); they are given back unless the password
// turns out wrong.
type loginAttempt struct {
	g                  *loginGuard
	addr, pair, handle string
	took               [3]bool // addrs, pairs, handles
}

// loginVerdict: refused > 0 answers 429 (limit says which); slow delays the check.
type loginVerdict struct {
	refused time.Duration
	limit   string
	slow    bool
}

// begin decides whether a login for handle from addr may be checked, taking one failure's
// worth from each limit in advance.
func (g *loginGuard) begin(addr, handle string, now time.Time) (*loginAttempt, loginVerdict) {
	a := &loginAttempt{g: g, addr: addr, pair: addr + "\x00" + handle, handle: handle}
	fresh := g.pairs.Full(a.pair, now) // no recent failure from this address on this handle
	if wait, ok := g.addrs.Take(a.addr, now); !ok {
		return a, loginVerdict{refused: wait, limit: limitAddress}
	}
	a.took[0] = true
	if wait, ok := g.pairs.Take(a.pair, now); !ok {
		a.giveBack(now)
		return a, loginVerdict{refused: wait, limit: limitPair}
	}
	a.took[1] = true
	if _, ok := g.handles.Take(a.handle, now); ok {
		a.took[2] = true
		return a, loginVerdict{}
	}
	if !fresh {
		a.giveBack(now)
		return a, loginVerdict{refused: g.handles.Wait(a.handle, now), limit: limitHandle}
	}
	return a, loginVerdict{slow: true}
}

// giveBack returns the tokens: the password was right, or it was never checked. After a
// wrong password (or an unknown handle) they stay taken: that is the failure counted.
func (a *loginAttempt) giveBack(now time.Time) {
	for i, l := range []*utils.KeyedLimiter{a.g.addrs, a.g.pairs, a.g.handles} {
		if a.took[i] {
			l.Refund([]string{a.addr, a.pair, a.handle}[i], now)
			a.took[i] = false
		}
	}
}

// register takes a registration from addr's allowance; undo gives it back for a request
// that was refused before any work (a busy server).
func (g *loginGuard) register(addr string, now time.Time) (refused time.Duration, undo func()) {
	if wait, ok := g.registers.Take(addr, now); !ok {
		return wait, func() {}
	}
	return 0, func() { g.registers.Refund(addr, now) }
}
