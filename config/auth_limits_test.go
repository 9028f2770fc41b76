package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestTrustProxyValues(t *testing.T) {
	good := map[string][]string{
		"":                             nil,
		"false":                        nil,
		"FALSE":                        nil,
		"127.0.0.1":                    {"127.0.0.1/32"},
		"10.1.2.3/8":                   {"10.0.0.0/8"}, // masked
		" 192.168.0.0/16 ,, ::1 ":      {"192.168.0.0/16", "::1/128"},
		"::ffff:10.0.0.1":              {"10.0.0.1/32"}, // IPv4-mapped: the IPv4 address
		"::ffff:10.0.0.0/104":          {"10.0.0.0/8"},
		"2001:db8::/32, 172.16.0.0/12": {"2001:db8::/32", "172.16.0.0/12"},
	}
	for v, want := range good {
		got, err := parseTrustProxy(strings.TrimSpace(v))
		if err != nil {
			t.Errorf("TRUST_PROXY=%q: %v", v, err)
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if !reflect.DeepEqual(gotS, want) {
			t.Errorf("TRUST_PROXY=%q: got %v, want %v", v, gotS, want)
		}
	}
	for _, bad := range []string{"true", "yes", "10.0.0.0/33", "localhost", "10.0.0.1,nope", ","} {
		if _, err := parseTrustProxy(bad); err == nil || !strings.Contains(err.Error(), "TRUST_PROXY") {
			t.Errorf("TRUST_PROXY=%q: err = %v, want an error naming TRUST_PROXY", bad, err)
		}
	}
}

func TestAuthHashQueueFollowsConcurrencyUnlessSet(t *testing.T) {
	c, err := Load(env(map[string]string{"AUTH_HASH_CONCURRENCY": "4"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.HashConcurrency != 4 || c.Auth.HashQueue != 16 {
		t.Fatalf("concurrency 4: %+v, want queue 16", c.Auth)
	}
	c, err = Load(env(map[string]string{"AUTH_HASH_CONCURRENCY": "1", "AUTH_HASH_QUEUE": "3"}))
	if err != nil || c.Auth.HashQueue != 3 {
		t.Fatalf("queue 3: %+v %v", c.Auth, err)
	}
	c, err = Load(env(map[string]string{"AUTH_HASH_CONCURRENCY": "1"}))
	if err != nil || c.Auth.HashQueue != 8 {
		t.Fatalf("concurrency 1: %+v %v, want the minimum queue of 8", c.Auth, err)
	}
	if c.Auth.TrustProxy != nil {
		t.Fatalf("TrustProxy = %v by default, want none", c.Auth.TrustProxy)
	}
}

func TestMetricsAddrValues(t *testing.T) {
	for _, v := range []string{"127.0.0.1:9090", ":9090", "[::1]:9100", "0.0.0.0:0"} {
		c, err := Load(env(map[string]string{"METRICS_ADDR": v}))
		if err != nil || c.MetricsAddr != v {
			t.Errorf("METRICS_ADDR=%q: %q %v", v, c.MetricsAddr, err)
		}
	}
	for _, v := range []string{"9090", "localhost", "127.0.0.1:http", "127.0.0.1:70000"} {
		if _, err := Load(env(map[string]string{"METRICS_ADDR": v})); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
			t.Errorf("METRICS_ADDR=%q: err = %v, want an error naming it", v, err)
		}
	}
}
