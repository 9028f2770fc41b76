package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddrs tells which client a request comes from, for the per-address limits: the
// TCP peer, unless the peer is a trusted proxy (TRUST_PROXY), in which case the nearest
// X-Forwarded-For entry that is not itself a trusted proxy. Entries left of that one are
// whatever the client wrote and are never believed.
type clientAddrs struct {
	trusted []netip.Prefix
}

func (c clientAddrs) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// of returns the client's address, or an invalid Addr when even the peer's cannot be read
// (which net/http never gives).
func (c clientAddrs) of(r *http.Request) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !c.isTrusted(peer) {
		return peer
	}
	client := peer
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHostAddr(hops[i])
		if !a.IsValid() {
			break // a trusted proxy wrote something unreadable: the last good hop stands
		}
		client = a
		if !c.isTrusted(a) {
			break
		}
	}
	return client
}

// forwardedFor is every X-Forwarded-For entry, in order, across repeated headers.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// parseHostAddr reads "ip", "ip:port" or "[ipv6]:port"; IPv4-mapped IPv6 becomes IPv4.
func parseHostAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.WithZone("").Unmap()
	}
	return netip.Addr{}
}

// limitKey is the key an address is limited under. An IPv6 host usually holds a whole
// /64, so IPv6 addresses count per /64; IPv4 addresses count one by one.
func limitKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}
