package utils

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// strictToken refuses what the JWT library lets through but the standards do not:
//   - a `crit` header (RFC 7515 §4.1.11: a token naming extensions the recipient does not
//     understand must be refused, and Parley understands none);
//   - `exp`, `nbf` or `iat` that are not JSON numbers (RFC 7519 §2 NumericDate: the library
//     also reads a string such as "1999999999" as a date).
func strictToken(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("token is not three segments")
	}
	header, err := segment(parts[0])
	if err != nil {
		return err
	}
	if _, ok := header["crit"]; ok {
		return errors.New("token has a crit header")
	}
	claims, err := segment(parts[1])
	if err != nil {
		return err
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if v, ok := claims[name]; ok && !isJSONNumber(v) {
			return errors.New("token's " + name + " is not a number")
		}
	}
	return nil
}

func segment(s string) (map[string]json.RawMessage, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// isJSONNumber: a valid JSON value starting like a number is a number.
func isJSONNumber(v json.RawMessage) bool {
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

// notExpired refuses a token whose exp has passed. The parser's leeway (kept for nbf and
// iat, where an identity provider's clock may run a little ahead) also applied to exp,
// so a token that expired seconds ago was accepted and auth:refresh answered with an
// expiresAt in the past.
func notExpired(c *TokenClaims, now time.Time) error {
	if c.ExpiresAt == nil || !c.ExpiresAt.After(now) {
		return errors.New("token is expired")
	}
	return nil
}
