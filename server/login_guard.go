package server

import (
	"sync"
	"time"

	"github.com/parley-chat/parley/utils"
)

// Failed logins per handle: a burst of 10, then one more every 6 s (10 a minute). Password
// guessing against one account slows to a crawl; a user who mistypes is not bothered.
const (
	loginFailuresBurst  = 10
	loginFailuresPerSec = 1.0 / 6
	maxGuardedHandles   = 100_000
)

// loginGuard limits failed logins per handle (in this process; each node guards its own).
type loginGuard struct {
	mu      sync.Mutex
	handles map[string]*utils.RateLimiter
}

func newLoginGuard() *loginGuard { return &loginGuard{handles: map[string]*utils.RateLimiter{}} }

func (g *loginGuard) limiter(handle string) *utils.RateLimiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.handles[handle]
	if l == nil {
		if len(g.handles) >= maxGuardedHandles {
			g.handles = map[string]*utils.RateLimiter{} // bounded memory; starts over
		}
		l = utils.NewRateLimiter(loginFailuresPerSec, loginFailuresBurst)
		g.handles[handle] = l
	}
	return l
}

// wait is how long a login for handle must wait before it may be tried (0: now).
func (g *loginGuard) wait(handle string, now time.Time) time.Duration {
	return g.limiter(handle).Wait(now)
}

// failed records a failed login for handle.
func (g *loginGuard) failed(handle string, now time.Time) { g.limiter(handle).Allow(now) }
