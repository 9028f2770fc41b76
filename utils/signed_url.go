package utils

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// URLSigner signs short-lived links to uploads: `/uploads/<id>?exp=<unix seconds>&sig=<s>`
// where s is base64url(HMAC-SHA256(key, "upload\x00" id "\x00" exp)). A link works until
// exp for anyone who holds it (an <img> tag sends no token), on every node that shares the
// key. Only id and exp are signed: a link opens that one upload, until then.
type URLSigner struct {
	key []byte
	ttl time.Duration
}

// NewURLSigner signs with key; links last ttl.
func NewURLSigner(key []byte, ttl time.Duration) *URLSigner {
	return &URLSigner{key: key, ttl: ttl}
}

func (s *URLSigner) mac(id string, exp int64) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("upload\x00"))
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write(strconv.AppendInt(nil, exp, 10))
	return m.Sum(nil)
}

// URL returns a relative link to upload id, valid from now for the signer's TTL (rounded
// up to the next whole second).
func (s *URLSigner) URL(id string, now time.Time) string {
	exp := now.Add(s.ttl + time.Second - 1).Unix()
	return "/uploads/" + id + "?exp=" + strconv.FormatInt(exp, 10) + "&sig=" +
		base64.RawURLEncoding.EncodeToString(s.mac(id, exp))
}

// Valid reports whether exp and sig are a signature of upload id that has not expired at
// now. The comparison takes the same time whatever sig holds.
func (s *URLSigner) Valid(id, exp, sig string, now time.Time) bool {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(e, 10) != exp {
		return false // only the canonical form the server writes
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	ok := hmac.Equal(got, s.mac(id, e))
	return ok && now.Unix() < e
}

// Remaining is how long a link with exp stays valid at now (0 when it has expired or exp
// is not a number).
func (s *URLSigner) Remaining(exp string, now time.Time) time.Duration {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return 0
	}
	return max(0, time.Unix(e, 0).Sub(now))
}
