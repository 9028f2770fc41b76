package server

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddrBelievesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted := clientAddrs{trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}}
	none := clientAddrs{}
	cases := []struct {
		name   string
		c      clientAddrs
		remote string
		xff    []string
		want   string
	}{
		{"no proxy trusted: the peer", none, "127.0.0.1:5000", []string{"203.0.113.9"}, "127.0.0.1"},
		{"untrusted peer: the peer", trusted, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted peer, one hop", trusted, "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client-written entry left of the real one is ignored", trusted, "127.0.0.1:5000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"through two trusted proxies", trusted, "127.0.0.1:5000", []string{"203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"repeated headers are one list", trusted, "127.0.0.1:5000", []string{"1.2.3.4", "203.0.113.9"}, "203.0.113.9"},
		{"every hop trusted: the leftmost", trusted, "127.0.0.1:5000", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"garbage from a trusted hop: the last good one", trusted, "127.0.0.1:5000", []string{"203.0.113.9, nonsense"}, "127.0.0.1"},
		{"garbage left of the client is never reached", trusted, "127.0.0.1:5000", []string{"nonsense, 203.0.113.9"}, "203.0.113.9"},
		{"no header: the peer", trusted, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"entries with ports", trusted, "127.0.0.1:5000", []string{"203.0.113.9:1234"}, "203.0.113.9"},
		{"IPv6 entry", trusted, "127.0.0.1:5000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"IPv4-mapped peer", trusted, "[::ffff:127.0.0.1]:5000", []string{"203.0.113.9"}, "203.0.113.9"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodPost, "http://x/auth/login", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := c.c.of(r).String(); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestLimitKeyGroupsIPv6By64(t *testing.T) {
	a := limitKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := limitKey(netip.MustParseAddr("2001:db8:1:2:bbbb::2"))
	c := limitKey(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c || a != "2001:db8:1:2::/64" {
		t.Fatalf("keys %q %q %q: want one /64 for the first two", a, b, c)
	}
	if k := limitKey(netip.MustParseAddr("203.0.113.9")); k != "203.0.113.9" {
		t.Fatalf("IPv4 key %q", k)
	}
	if k := limitKey(netip.Addr{}); k != "unknown" {
		t.Fatalf("invalid address key %q", k)
	}
}
