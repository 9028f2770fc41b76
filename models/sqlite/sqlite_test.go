package sqlite

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/storetest"
)

// TestStore runs the shared contract suite, each subtest on a fresh database file.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) models.Store { return openTest(t) })
}
