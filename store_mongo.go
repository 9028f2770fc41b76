package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/models/mongo"
)

// openMongo opens the MongoDB store with the pool settings of the configuration.
func openMongo(ctx context.Context, cfg config.Config, log zerolog.Logger) (models.Store, error) {
	st, err := mongo.Open(ctx, mongoOptions(cfg, log))
	if err != nil {
		return nil, fmt.Errorf("opening MongoDB: %w", err)
	}
	return st, nil
}

func mongoOptions(cfg config.Config, log zerolog.Logger) mongo.Options {
	return mongo.Options{
		URI:                    cfg.MongoURI,
		Database:               cfg.MongoDB,
		MaxPoolSize:            cfg.MongoMaxPool,
		ServerSelectionTimeout: cfg.MongoSelectTO,
		SocketTimeout:          cfg.MongoSocketTO,
		Logger:                 log,
	}
}

// migrate prepares an existing Node-era MongoDB database for Parley: indexes, lower-case
// handles, chat types and admins, and seq numbers for existing messages. Safe to run again.
func migrate(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	if cfg.MongoURI == "" {
		return fmt.Errorf("migrate: set MONGODB_URI (SQLite databases need no migration)")
	}
	st, err := mongo.Open(ctx, mongoOptions(cfg, log))
	if err != nil {
		return fmt.Errorf("opening MongoDB: %w", err)
	}
	defer st.Close()
	report, err := mongo.Migrate(ctx, st)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.Info().Interface("report", report).Msg("migration done")
	return nil
}
