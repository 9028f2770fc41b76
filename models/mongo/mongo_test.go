package mongo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/internal/testsvc"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/storetest"
)

// One FerretDB serves the whole test binary; every test gets a database of its own.
var (
	ferret *testsvc.Ferret
	dbSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	f, err := testsvc.StartFerretDB("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "models/mongo tests need FerretDB:", err)
		os.Exit(1)
	}
	ferret = f
	code := m.Run()
	f.Close()
	os.Exit(code)
}

// testLogger sends the store's log lines to the test log.
func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.ConsoleWriter{Out: testWriter{t}, NoColor: true}).Level(zerolog.InfoLevel)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// freshDB names a database no other test uses.
func freshDB() string { return fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1)) }

// openStore opens a store on a fresh database of the shared FerretDB and drops that
// database when the test ends. opts may preset fields; URI and Database are filled in.
func openStore(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.URI == "" {
		opts.URI = ferret.URI()
	}
	if opts.Database == "" {
		opts.Database = freshDB()
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = -1 // tests run Sweep themselves unless they ask for the loop
	}
	opts.Logger = testLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.db.Drop(ctx)
		_ = s.Close()
	})
	return s
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) models.Store { return openStore(t, Options{}) })
}

func TestOpenOptions(t *testing.T) {
	// The database comes from the URI's path when Options.Database is empty.
	name := freshDB()
	s, err := Open(t.Context(), Options{URI: ferret.URI() + name, SweepInterval: -1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.db.Drop(context.Background()); _ = s.Close() }()
	if s.Database() != name {
		t.Errorf("Database() = %q, want %q from the URI", s.Database(), name)
	}
	if s.Name() != "mongodb" {
		t.Errorf("Name() = %q", s.Name())
	}
	// Nothing listens on port 1: Open fails with ErrUnavailable, quickly.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, Options{URI: "mongodb://127.0.0.1:1/x", ServerSelectionTimeout: 300 * time.Millisecond})
	if err == nil || !errorsIs(err, models.ErrUnavailable) {
		t.Errorf("Open of a dead server: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open of a dead server took %s", d)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
