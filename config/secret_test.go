package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestEnsureSecretGeneratesOnceAndKeepsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	db := filepath.Join(dir, "parley.db")
	first, err := EnsureSecret(db)
	if err != nil {
		t.Fatalf("EnsureSecret: %v", err)
	}
	if len(first) < 32 {
		t.Fatalf("secret %q is shorter than 32 characters", first)
	}
	path := filepath.Join(dir, SecretFileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the secret file was not written: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("secret file mode %o, want 600", mode)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != first {
		t.Fatal("the file does not hold the returned secret")
	}
	second, err := EnsureSecret(db)
	if err != nil || second != first {
		t.Fatalf("second call: %q, %v; want the first secret", second, err)
	}
	// A "restart": nothing in memory, only the file. (EnsureSecret keeps no state, so a
	// fresh call with the same path is what a new process does.)
	again, err := EnsureSecret(filepath.Join(dir, ".", "parley.db"))
	if err != nil || again != first {
		t.Fatalf("after a restart: %q, %v; want the first secret", again, err)
	}
	// Another directory gets another secret.
	other, err := EnsureSecret(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil || other == first {
		t.Fatalf("another directory: %q, %v; want a different secret", other, err)
	}
}

func TestEnsureSecretRefusesAnUnusableFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SecretFileName), []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := EnsureSecret(filepath.Join(dir, "parley.db")); err == nil {
		t.Fatalf("a file with a short secret gave %q", s)
	}
}

// Two processes starting on a fresh directory must end up with one secret. Goroutines
// stand in for the processes; each round uses a fresh directory.
func TestEnsureSecretConcurrentFirstStartsAgree(t *testing.T) {
	for round := 0; round < 100; round++ {
		db := filepath.Join(t.TempDir(), "parley.db")
		const n = 6
		secrets := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				secrets[i], errs[i] = EnsureSecret(db)
			}(i)
		}
		close(start)
		wg.Wait()
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("round %d: caller %d: %v", round, i, errs[i])
			}
			if secrets[i] != secrets[0] {
				t.Fatalf("round %d: callers got different secrets", round)
			}
		}
	}
}
