package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/sqlite"
)

// openStore opens MongoDB when MONGODB_URI is set, else the embedded SQLite file.
func openStore(ctx context.Context, cfg config.Config, log zerolog.Logger) (models.Store, error) {
	if cfg.MongoURI != "" {
		return openMongo(ctx, cfg, log)
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath, sqlite.Options{Synchronous: cfg.SQLiteSync, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("opening SQLite at %s: %w", cfg.SQLitePath, err)
	}
	return st, nil
}
