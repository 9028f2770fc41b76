package utils

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef") // exactly 32 bytes

// Test keys are generated once per test binary (RSA generation is slow under -race).
var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func testKeys(t *testing.T) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

func publicPEM(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func newTokens(t *testing.T, publicKeyPEM, issuer, audience string) *Tokens {
	t.Helper()
	tk, err := NewTokens(testSecret, publicKeyPEM, issuer, audience, time.Hour)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tk
}

func claimsFor(sub string, exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": sub, "exp": exp.Unix(), "iat": time.Now().Unix()}
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

func mustVerify(t *testing.T, tk *Tokens, token string) *TokenClaims {
	t.Helper()
	c, err := tk.Verify(token)
	if err != nil {
		t.Fatalf("Verify refused a good token: %v", err)
	}
	return c
}

func mustRefuse(t *testing.T, tk *Tokens, token, why string) {
	t.Helper()
	if c, err := tk.Verify(token); err == nil {
		t.Fatalf("Verify accepted %s (claims %+v)", why, c)
	}
}

func TestTokensIssueAndVerifyHS256(t *testing.T) {
	tk := newTokens(t, "", "", "")
	now := time.Now()
	token, exp, err := tk.Issue("507f1f77bcf86cd799439011", now)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("expiry %v, want now+ttl", exp)
	}
	c := mustVerify(t, tk, token)
	if c.Subject != "507f1f77bcf86cd799439011" {
		t.Fatalf("subject %q", c.Subject)
	}
	if c.ExpiresAt == nil || c.ExpiresAt.Unix() != exp.Unix() {
		t.Fatalf("exp claim %v, want %v", c.ExpiresAt, exp)
	}
}

func TestTokensReadProfileClaims(t *testing.T) {
	tk := newTokens(t, "", "", "")
	claims := claimsFor("ext-1", time.Now().Add(time.Hour))
	claims["name"], claims["picture"], claims["preferred_username"], claims["handle"] = "Ada", "https://x/a.png", "ada", "ada_l"
	c := mustVerify(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, claims))
	if c.Name != "Ada" || c.Picture != "https://x/a.png" || c.PreferredUsername != "ada" || c.Handle != "ada_l" {
		t.Fatalf("claims %+v", c)
	}
}

func TestTokensRefuseExpired(t *testing.T) {
	tk := newTokens(t, "", "", "")
	token, _, err := tk.Issue("u1", time.Now().Add(-2*time.Hour)) // expired an hour ago
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, tk, token, "an expired token")
}

func TestTokensRefuseBadSignature(t *testing.T) {
	tk := newTokens(t, "", "", "")
	other := sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), claimsFor("u1", time.Now().Add(time.Hour)))
	mustRefuse(t, tk, other, "a token signed with another secret")

	good, _, _ := tk.Issue("u1", time.Now())
	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	mustRefuse(t, tk, parts[0]+"."+parts[1]+"."+string(sig), "a token with a tampered signature")

	// A changed payload under the original signature.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"u1"`, `"u2"`, 1)
	mustRefuse(t, tk, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(forged))+"."+parts[2], "a token with a tampered payload")

	for _, garbage := range []string{"", "abc", "a.b.c", "a.b", good + "x"} {
		mustRefuse(t, tk, garbage, "garbage "+garbage)
	}
}

func TestTokensRefuseAlgNone(t *testing.T) {
	testKeys(t)
	for _, tk := range []*Tokens{newTokens(t, "", "", ""), newTokens(t, publicPEM(t, &rsaKey.PublicKey), "", "")} {
		none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsFor("u1", time.Now().Add(time.Hour)))
		mustRefuse(t, tk, none, "alg none")
		// Hand-made variants: "None", and "none" carrying the HS256 signature of the body.
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"None","typ":"JWT"}`))
		body := strings.Split(none, ".")[1]
		mustRefuse(t, tk, hdr+"."+body+".", "alg None")
	}
}

// Algorithm confusion: an attacker who knows the RSA public key signs an HS256 token with
// the PEM bytes as the HMAC secret. A verifier that picks the key by the token's alg
// would accept it.
func TestTokensRefuseAlgorithmConfusion(t *testing.T) {
	testKeys(t)
	pub := publicPEM(t, &rsaKey.PublicKey)
	tk := newTokens(t, pub, "", "")
	claims := claimsFor("u1", time.Now().Add(time.Hour))
	mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, []byte(pub), claims), "HS256 signed with the RSA public key PEM")
	mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, []byte(strings.TrimSpace(pub)), claims), "HS256 signed with the trimmed PEM")
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, der, claims), "HS256 signed with the DER public key")
	// Same for the other key types.
	for _, pubKey := range []crypto.PublicKey{&ecKey.PublicKey, edKey.Public()} {
		p := publicPEM(t, pubKey)
		mustRefuse(t, newTokens(t, p, "", ""), sign(t, jwt.SigningMethodHS256, []byte(p), claims), "HS256 signed with a public key PEM")
	}
}

func TestTokensVerifyAsymmetricAlgorithms(t *testing.T) {
	testKeys(t)
	claims := claimsFor("ext-user", time.Now().Add(time.Hour))
	cases := []struct {
		name   string
		pub    crypto.PublicKey
		method jwt.SigningMethod
		key    any
	}{
		{"RS256", &rsaKey.PublicKey, jwt.SigningMethodRS256, rsaKey},
		{"ES256", &ecKey.PublicKey, jwt.SigningMethodES256, ecKey},
		{"EdDSA", edKey.Public(), jwt.SigningMethodEdDSA, edKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := newTokens(t, publicPEM(t, c.pub), "", "")
			if got := mustVerify(t, tk, sign(t, c.method, c.key, claims)); got.Subject != "ext-user" {
				t.Fatalf("subject %q", got.Subject)
			}
			// HS256 with the secret keeps working beside the public key.
			own, _, _ := tk.Issue("u1", time.Now())
			mustVerify(t, tk, own)
		})
	}
	// RS256 with a PKCS#1 "RSA PUBLIC KEY" block.
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}))
	mustVerify(t, newTokens(t, pkcs1, "", ""), sign(t, jwt.SigningMethodRS256, rsaKey, claims))
}

func TestTokensPinTheAsymmetricAlgorithmToTheKey(t *testing.T) {
	testKeys(t)
	claims := claimsFor("u1", time.Now().Add(time.Hour))
	ecTokens := newTokens(t, publicPEM(t, &ecKey.PublicKey), "", "")
	mustRefuse(t, ecTokens, sign(t, jwt.SigningMethodRS256, rsaKey, claims), "RS256 with an ECDSA key configured")
	mustRefuse(t, ecTokens, sign(t, jwt.SigningMethodEdDSA, edKey, claims), "EdDSA with an ECDSA key configured")
	rsaTokens := newTokens(t, publicPEM(t, &rsaKey.PublicKey), "", "")
	mustRefuse(t, rsaTokens, sign(t, jwt.SigningMethodPS256, rsaKey, claims), "PS256 with an RSA (RS256) key configured")
	mustRefuse(t, rsaTokens, sign(t, jwt.SigningMethodRS512, rsaKey, claims), "RS512 with an RSA (RS256) key configured")
	mustRefuse(t, rsaTokens, sign(t, jwt.SigningMethodES256, ecKey, claims), "ES256 with an RSA key configured")
	// Without a public key, only HS256 is accepted.
	mustRefuse(t, newTokens(t, "", "", ""), sign(t, jwt.SigningMethodRS256, rsaKey, claims), "RS256 with no public key")
	// HS384/HS512 with the right secret are still not HS256.
	mustRefuse(t, newTokens(t, "", "", ""), sign(t, jwt.SigningMethodHS512, testSecret, claims), "HS512")
}

func TestTokensEnforceIssuerAndAudience(t *testing.T) {
	tk := newTokens(t, "", "https://id.example", "parley")
	exp := time.Now().Add(time.Hour)
	with := func(iss, aud any) string {
		c := claimsFor("u1", exp)
		if iss != nil {
			c["iss"] = iss
		}
		if aud != nil {
			c["aud"] = aud
		}
		return sign(t, jwt.SigningMethodHS256, testSecret, c)
	}
	mustVerify(t, tk, with("https://id.example", "parley"))
	mustVerify(t, tk, with("https://id.example", []string{"other", "parley"}))
	mustRefuse(t, tk, with("https://evil.example", "parley"), "a wrong issuer")
	mustRefuse(t, tk, with(nil, "parley"), "a missing issuer")
	mustRefuse(t, tk, with("https://id.example", "other"), "a wrong audience")
	mustRefuse(t, tk, with("https://id.example", nil), "a missing audience")
	// Tokens it issues itself carry both.
	own, _, err := tk.Issue("u1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, tk, own)
	// Without configured issuer/audience, any are accepted.
	mustVerify(t, newTokens(t, "", "", ""), with("https://whoever", "whatever"))
}

func TestTokensRefuseMissingExpAndSubject(t *testing.T) {
	tk := newTokens(t, "", "", "")
	mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": "u1"}), "a token without exp")
	mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()}), "a token without sub")
	nbf := claimsFor("u1", time.Now().Add(2*time.Hour))
	nbf["nbf"] = time.Now().Add(time.Hour).Unix()
	mustRefuse(t, tk, sign(t, jwt.SigningMethodHS256, testSecret, nbf), "a token not valid before an hour from now")
}

func TestNewTokensRefusesShortSecretsAndBadKeys(t *testing.T) {
	if _, err := NewTokens([]byte("0123456789abcdef0123456789abcde"), "", "", "", time.Hour); err == nil {
		t.Error("a 31-byte secret was accepted")
	}
	if _, err := NewTokens(nil, "", "", "", time.Hour); err == nil {
		t.Error("an empty secret was accepted")
	}
	for _, bad := range []string{"not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"} {
		if _, err := NewTokens(testSecret, bad, "", "", time.Hour); err == nil || !strings.Contains(err.Error(), "JWT_PUBLIC_KEY") {
			t.Errorf("public key %q: err = %v, want an error naming JWT_PUBLIC_KEY", bad, err)
		}
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTokens(testSecret, publicPEM(t, &p384.PublicKey), "", "", time.Hour); err == nil {
		t.Error("a P-384 key was accepted for ES256")
	}
}
