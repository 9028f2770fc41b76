package main

import (
	"context"
	"errors"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models"
)

// openMongo is replaced by the MongoDB store as soon as it lands.
func openMongo(context.Context, config.Config, zerolog.Logger) (models.Store, error) {
	return nil, errors.New("MONGODB_URI: the MongoDB store is not in this build yet")
}

func migrate(context.Context, config.Config, zerolog.Logger) error {
	return errors.New("migrate: the MongoDB store is not in this build yet")
}
