package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/storetest"
)

// TestStore runs the shared contract suite, each subtest on a fresh database file.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) models.Store { return openTest(t) })
}

// TestStoreIndexedAtCommit runs the contract suite on a store that indexes messages for
// search before each commit, so every search reads the FTS5 index alone. (With the
// indexer's 200 ms cadence, TestStore's searches mostly read messages not indexed yet.)
func TestStoreIndexedAtCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) models.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), Options{Logger: zerolog.Nop(), indexAtCommit: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
