package utils

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignedURL(t *testing.T) {
	s := NewURLSigner([]byte("0123456789abcdef0123456789abcdef"), 5*time.Minute)
	now := time.Unix(1_700_000_000, 0)
	id := "0123456789abcdef01234567"
	link := s.URL(id, now)
	u, err := url.Parse(link)
	if err != nil || u.Path != "/uploads/"+id || u.IsAbs() {
		t.Fatalf("URL = %q (%v), want a relative /uploads/<id> link", link, err)
	}
	exp, sig := u.Query().Get("exp"), u.Query().Get("sig")
	if exp != "1700000300" {
		t.Fatalf("exp = %s, want now + 5 min", exp)
	}
	if !s.Valid(id, exp, sig, now) || !s.Valid(id, exp, sig, now.Add(299*time.Second)) {
		t.Fatal("a fresh link is refused")
	}
	if s.Valid(id, exp, sig, now.Add(300*time.Second)) {
		t.Fatal("a link is accepted at its expiry")
	}
	if got := s.Remaining(exp, now.Add(100*time.Second)); got != 200*time.Second {
		t.Fatalf("Remaining = %v", got)
	}
	tamper := []byte(sig)
	tamper[3] ^= 1
	for what, c := range map[string][3]string{
		"another id":         {"0123456789abcdef01234568", exp, sig},
		"a later exp":        {id, "1700000999", sig},
		"a padded exp":       {id, "01700000300", sig},
		"a tampered sig":     {id, exp, string(tamper)},
		"a truncated sig":    {id, exp, sig[:len(sig)-2]},
		"no sig":             {id, exp, ""},
		"no exp":             {id, "", sig},
		"a non-numeric exp":  {id, "soon", sig},
		"a sig that is hex":  {id, exp, strings.Repeat("a", 64)},
		"a base64 with pads": {id, exp, sig + "="},
	} {
		if s.Valid(c[0], c[1], c[2], now) {
			t.Errorf("%s: accepted", what)
		}
	}
	other := NewURLSigner([]byte("another key, another key, another"), 5*time.Minute)
	if other.Valid(id, exp, sig, now) {
		t.Error("a link signed with another key is accepted")
	}
}

func TestDeriveKey(t *testing.T) {
	a, _ := NewTokens([]byte("0123456789abcdef0123456789abcdef"), "", "", "", time.Hour)
	b, _ := NewTokens([]byte("0123456789abcdef0123456789abcdef"), "", "", "", time.Hour)
	c, _ := NewTokens([]byte("fedcba9876543210fedcba9876543210"), "", "", "", time.Hour)
	if string(a.DeriveKey("x")) != string(b.DeriveKey("x")) {
		t.Fatal("two nodes with one secret derive different keys")
	}
	if string(a.DeriveKey("x")) == string(a.DeriveKey("y")) || string(a.DeriveKey("x")) == string(c.DeriveKey("x")) {
		t.Fatal("keys do not depend on label and secret")
	}
	if string(a.DeriveKey("x")) == "0123456789abcdef0123456789abcdef" {
		t.Fatal("the derived key is the secret")
	}
}
