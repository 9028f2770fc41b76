package config

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
)

// AuthLimits bounds what the HTTP auth routes may cost and tells who is asking (README
// "Limits"). The login limits themselves are fixed (server/login_guard.go).
type AuthLimits struct {
	// TrustProxy lists the proxies whose X-Forwarded-For is believed; empty: none, the
	// client address is the TCP peer's.
	TrustProxy []netip.Prefix
	// HashConcurrency is how many password hashes run at once, HashQueue how many more
	// requests may wait for one (beyond: 503 UNAVAILABLE with Retry-After).
	HashConcurrency int
	HashQueue       int
	// Registrations per client address: a burst, then RegisterPerMin a minute.
	RegisterBurst  int
	RegisterPerMin float64
}

// loadAuthLimits reads the variables of AuthLimits.
func loadAuthLimits(e *envReader, a *AuthLimits) {
	// One core is left to everything else by default: hashing is CPU-bound, and with every
	// core hashing, other users' events wait for the scheduler.
	*a = AuthLimits{HashConcurrency: max(1, runtime.GOMAXPROCS(0)-1), RegisterBurst: 10, RegisterPerMin: 1}
	e.intIn("AUTH_HASH_CONCURRENCY", &a.HashConcurrency, 1, 1024)
	// A short line: about four hashes' time per slot (~30 ms each with Parley's argon2id).
	a.HashQueue = max(8, 4*a.HashConcurrency)
	e.intIn("AUTH_HASH_QUEUE", &a.HashQueue, 0, 100_000)
	e.intIn("AUTH_REGISTER_BURST", &a.RegisterBurst, 1, 1_000_000)
	e.positive("AUTH_REGISTER_PER_MIN", &a.RegisterPerMin, 1e6, "a positive number of registrations a minute")
	proxies, err := parseTrustProxy(e.get("TRUST_PROXY"))
	if err != nil {
		e.errs = append(e.errs, err)
	}
	a.TrustProxy = proxies
}

// loadMetricsAddr reads METRICS_ADDR, a host:port.
func loadMetricsAddr(e *envReader, dst *string) {
	if v := e.get("METRICS_ADDR"); v != "" {
		if _, port, err := net.SplitHostPort(v); err != nil {
			e.fail("METRICS_ADDR: want host:port such as 127.0.0.1:9090, got %q", v)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			e.fail("METRICS_ADDR: want a port in [0, 65535], got %q", v)
		} else {
			*dst = v
		}
	}
}

// parseTrustProxy reads TRUST_PROXY: empty or false (trust no proxy), or a comma-separated
// list of proxy addresses and CIDRs. "true" is refused: believing X-Forwarded-For from
// any peer would let every client pick the address its limits are counted under.
func parseTrustProxy(v string) ([]netip.Prefix, error) {
	if v == "" || strings.EqualFold(v, "false") {
		return nil, nil
	}
	if strings.EqualFold(v, "true") {
		return nil, fmt.Errorf("TRUST_PROXY: list your proxies' addresses or CIDRs (e.g. 10.0.0.0/8,127.0.0.1); true would trust X-Forwarded-For from anyone")
	}
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return nil, fmt.Errorf("TRUST_PROXY: %q is neither an IP address nor a CIDR", part)
			}
			addr = addr.Unmap()
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("TRUST_PROXY: want false or a list of addresses/CIDRs, got %q", v)
	}
	return out, nil
}
