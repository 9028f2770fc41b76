package utils

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func signWithHeader(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A token that expired a moment ago is refused, although the parser's 5 s leeway would
// let it through: auth:refresh answered such a token with an expiresAt in the past.
func TestTokensRefuseATokenThatExpiredSecondsAgo(t *testing.T) {
	tk := newTokens(t, "", "", "")
	for _, ago := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second} {
		tok := sign(t, jwt.SigningMethodHS256, testSecret, claimsFor("u1", time.Now().Add(-ago)))
		mustRefuse(t, tk, tok, "a token that expired "+ago.String()+" ago")
	}
	mustVerify(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, claimsFor("u1", time.Now().Add(3*time.Second))))
	// nbf keeps the leeway: a provider's clock a little ahead is tolerated.
	c := claimsFor("u1", time.Now().Add(time.Hour))
	c["nbf"] = time.Now().Add(3 * time.Second).Unix()
	mustVerify(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, c))
}

// Dates must be JSON numbers: the library reads "1999999999" (a string) as a date.
func TestTokensRefuseDatesThatAreNotNumbers(t *testing.T) {
	tk := newTokens(t, "", "", "")
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	cases := map[string]jwt.MapClaims{
		"a string exp":       {"sub": "u1", "exp": future},
		"a string nbf":       {"sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "nbf": past},
		"a string iat":       {"sub": "u1", "exp": time.Now().Add(time.Hour).Unix(), "iat": past},
		"an exp of true":     {"sub": "u1", "exp": true},
		"an exp array":       {"sub": "u1", "exp": []int64{time.Now().Add(time.Hour).Unix()}},
		"an exponent string": {"sub": "u1", "exp": "1e12"},
	}
	for why, claims := range cases {
		mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, claims), why)
	}
	// Fractional numbers are NumericDates too (RFC 7519 §2).
	mustVerify(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": "u1", "exp": float64(time.Now().Add(time.Hour).Unix()) + 0.5}))
}

// A crit header names extensions the verifier must understand; Parley understands none.
func TestTokensRefuseACritHeader(t *testing.T) {
	testKeys(t)
	claims := claimsFor("u1", time.Now().Add(time.Hour))
	hs := newTokens(t, "", "", "")
	for _, crit := range []any{[]string{"exp"}, []string{"http://example.com/ext"}, []string{}, "exp"} {
		tok := signWithHeader(t, jwt.SigningMethodHS256, testSecret, claims, map[string]any{"crit": crit, "exp": 1})
		mustRefuse(t, hs, tok, "an HS256 token with a crit header")
	}
	rs := newTokens(t, publicPEM(t, &rsaKey.PublicKey), "", "")
	mustRefuse(t, rs, signWithHeader(t, jwt.SigningMethodRS256, rsaKey, claims, map[string]any{"crit": []string{"b64"}, "b64": false}), "an RS256 token with a crit header")
	// Other unknown header fields are harmless and accepted (kid, cty, x-…).
	mustVerify(t, hs, signWithHeader(t, jwt.SigningMethodHS256, testSecret, claims, map[string]any{"kid": "k1", "x-custom": 1}))
}

func TestStrictTokenRefusesMalformedSegments(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, tok := range []string{"", "a.b", "a.b.c.d", enc([]byte(`{"alg":"HS256"`)) + "." + enc([]byte(`{}`)) + ".x", "!!.e30.x"} {
		if strictToken(tok) == nil {
			t.Errorf("strictToken(%q) accepted it", tok)
		}
	}
	if err := strictToken(enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{"exp":-1.5e3}`)) + ".sig"); err != nil {
		t.Errorf("a negative exponent number was refused: %v", err)
	}
	if !strings.Contains(strictToken(enc([]byte(`{"alg":"HS256","crit":["x"]}`))+"."+enc([]byte(`{}`))+".sig").Error(), "crit") {
		t.Error("the crit refusal does not say why")
	}
}
