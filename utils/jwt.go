package utils

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenClaims is what Parley reads from a JWT: the user id and the optional profile
// claims external identity providers send.
type TokenClaims struct {
	jwt.RegisteredClaims
	Name              string `json:"name,omitempty"`
	Picture           string `json:"picture,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Handle            string `json:"handle,omitempty"`
}

// Tokens signs Parley's own tokens and verifies every accepted kind. Algorithms are pinned:
// HS256 with the secret, and exactly one asymmetric algorithm chosen by the type of the
// public key, so `alg: none` and algorithm confusion (an HMAC signed with the public key)
// are refused by construction.
type Tokens struct {
	secret    []byte
	publicKey crypto.PublicKey
	publicAlg string
	issuer    string
	audience  string
	ttl       time.Duration
	parser    *jwt.Parser
}

// NewTokens builds a Tokens. publicKeyPEM may be empty.
func NewTokens(secret []byte, publicKeyPEM, issuer, audience string, ttl time.Duration) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("JWT_SECRET must be at least 32 bytes")
	}
	t := &Tokens{secret: secret, issuer: issuer, audience: audience, ttl: ttl}
	methods := []string{jwt.SigningMethodHS256.Alg()}
	if publicKeyPEM != "" {
		key, alg, err := parsePublicKey(publicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("JWT_PUBLIC_KEY: %w", err)
		}
		t.publicKey, t.publicAlg = key, alg
		methods = append(methods, alg)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(5 * time.Second)}
	if issuer != "" {
		opts = append(opts, jwt.WithIssuer(issuer))
	}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	t.parser = jwt.NewParser(opts...)
	return t, nil
}

func parsePublicKey(p string) (crypto.PublicKey, string, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, "", errors.New("no PEM block found")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		if rsaKey, rsaErr := x509.ParsePKCS1PublicKey(block.Bytes); rsaErr == nil {
			return rsaKey, jwt.SigningMethodRS256.Alg(), nil
		}
		return nil, "", err
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k, jwt.SigningMethodRS256.Alg(), nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, "", errors.New("ECDSA keys must use P-256 (ES256)")
		}
		return k, jwt.SigningMethodES256.Alg(), nil
	case ed25519.PublicKey:
		return k, jwt.SigningMethodEdDSA.Alg(), nil
	default:
		return nil, "", fmt.Errorf("unsupported key type %T", key)
	}
}

// Issue signs a built-in token for userID, returning it and its expiry.
func (t *Tokens) Issue(userID string, now time.Time) (string, time.Time, error) {
	exp := now.Add(t.ttl)
	claims := TokenClaims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
		Issuer:    t.issuer,
	}}
	if t.audience != "" {
		claims.Audience = jwt.ClaimStrings{t.audience}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	return s, exp, err
}

// Verify checks a token's signature, algorithm, expiry, issuer and audience, refuses
// `crit` headers and non-numeric dates (jwt_strict.go), and returns its claims. It is the
// one check of every token (handshake and auth:refresh). Any failure is one error: callers
// answer UNAUTHORIZED without detail.
func (t *Tokens) Verify(token string) (*TokenClaims, error) {
	claims := &TokenClaims{}
	_, err := t.parser.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		switch tok.Method.Alg() {
		case jwt.SigningMethodHS256.Alg():
			return t.secret, nil
		case t.publicAlg:
			if t.publicKey != nil {
				return t.publicKey, nil
			}
		}
		return nil, errors.New("unexpected signing method")
	})
	if err != nil {
		return nil, err
	}
	if err := strictToken(token); err != nil {
		return nil, err
	}
	if err := notExpired(claims, time.Now()); err != nil {
		return nil, err
	}
	if claims.Subject == "" {
		return nil, errors.New("token has no subject")
	}
	return claims, nil
}

// DeriveKey returns a key for another use of the server's secret (HMAC-SHA256 of the
// secret over label), so that no signature made for one purpose is valid for another,
// and every node sharing JWT_SECRET derives the same key.
func (t *Tokens) DeriveKey(label string) []byte {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}
