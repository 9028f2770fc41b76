package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SecretFileName is the file beside the SQLite database that keeps the generated JWT
// secret, so tokens stay valid across restarts of a zero-configuration node.
const SecretFileName = "jwt-secret"

// EnsureSecret returns the JWT secret stored beside dbPath, generating and storing one
// (mode 0600) the first time.
func EnsureSecret(dbPath string) (string, error) {
	dir := filepath.Dir(dbPath)
	path := filepath.Join(dir, SecretFileName)
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return s, nil
		}
		return "", fmt.Errorf("%s holds no usable secret; delete it to have a new one generated", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	// Write a private temp file in full, then link it into place: the secret file appears
	// complete or not at all, and if two processes race on a fresh directory, one link
	// wins and the loser reads the winner's secret.
	tmp, err := os.CreateTemp(dir, ".jwt-secret-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.WriteString(secret + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return EnsureSecret(dbPath)
	} else if err != nil {
		return "", err
	}
	return secret, nil
}
