// Package mongo is the MongoDB implementation of the models store interfaces, over the
// collections and fields of the mongoose-based Node server Parley replaces (docs.go).
//
// It runs against MongoDB and against FerretDB (the test server), which has no
// transactions, no TTL or partial indexes and no $lookup. So every change is designed to
// be safe without transactions: each logical write is one single-document atomic update,
// or a short sequence ordered so that a crash between its steps leaves a state every read
// tolerates and that a retry or the Store's sweep completes (messages.go, friends.go).
// Features a server refuses are detected at Open and replaced by fallbacks (indexes.go).
package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/parley-chat/parley/models"
)

// Defaults of Options.
const (
	DefaultDatabase               = "parley"
	DefaultMaxPoolSize            = 10
	DefaultServerSelectionTimeout = 5 * time.Second
	DefaultSocketTimeout          = 45 * time.Second
	DefaultSweepInterval          = time.Hour
	DefaultRepairGrace            = 10 * time.Second
)

// Options configures Open. A field left zero takes the URI's option if the URI states
// one, else the default above; a field that is set wins over the URI.
type Options struct {
	// URI is the MongoDB connection string. Its options (w, retryWrites, maxPoolSize,
	// serverSelectionTimeoutMS, timeoutMS, …) override the store's defaults, so the
	// write concern (majority by default) and retryable writes (on) can be changed there.
	URI string
	// Database is the database name; empty means the URI's path, then DefaultDatabase.
	Database string
	// MaxPoolSize bounds the connections per server (default 10).
	MaxPoolSize uint64
	// ServerSelectionTimeout bounds how long an operation waits for a usable server
	// before it fails with ErrUnavailable (default 5s).
	ServerSelectionTimeout time.Duration
	// SocketTimeout bounds one operation when its context has no deadline (default 45s).
	// Driver v2 has no socket timeout any more; this becomes its client-side operation
	// timeout, which covers the same ground: a hung connection cannot block a call forever.
	SocketTimeout time.Duration
	// SweepInterval is how often the background sweep runs (default 1h): it deletes
	// expired notifications where the server has no TTL index, fills seq holes older
	// than RepairGrace and completes abandoned multi-step writes. Negative disables it.
	SweepInterval time.Duration
	// RepairGrace is how old an unfinished step must be before a retry or the sweep may
	// take it over (default 10s): an in-flight insert younger than this is left alone.
	RepairGrace time.Duration
	// Logger receives the store's warnings (refused index kinds, sweep failures).
	Logger zerolog.Logger
}

// Store is the MongoDB store. It is safe for concurrent use.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	log    zerolog.Logger
	opts   Options

	users, chats, messages, requests, notifications *mongo.Collection
	readMarks, friendships, blocks, meta            *mongo.Collection
	// attachments holds the uploads' records; files and chunks are the GridFS bucket
	// "uploads" that holds their bytes (attachments.go).
	attachments, files, chunks *mongo.Collection

	// caps records what the server refused at Open (indexes.go); read-only afterwards.
	caps capabilities
	// locks restore single-document atomicity on FerretDB (atomic.go).
	locks keyLocks

	stop      chan struct{}
	sweepDone chan struct{}
	holesDone chan struct{}
	holes     pendingHoles
	closeOnce sync.Once
}

var _ models.Store = (*Store)(nil)

// Open connects, pings once (so a wrong URI or a server that is down fails here with a
// clear error wrapping models.ErrUnavailable), creates the indexes, and starts the sweep.
// After Open, an outage makes calls fail with ErrUnavailable and the driver reconnects by
// itself when the server returns: the Store keeps one client for its whole life.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URI == "" {
		return nil, errors.New("mongo: Options.URI is empty")
	}
	cs, err := connstring.Parse(opts.URI)
	if err != nil {
		return nil, fmt.Errorf("mongo: parse URI: %w", err)
	}
	if opts.Database == "" {
		opts.Database = cs.Database
	}
	if opts.Database == "" {
		opts.Database = DefaultDatabase
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = DefaultSweepInterval
	}
	if opts.RepairGrace <= 0 {
		opts.RepairGrace = DefaultRepairGrace
	}

	// Layering: the defaults, then whatever the URI states explicitly (ApplyURI only
	// overrides options present in the URI), then the Options fields that are set.
	co := options.Client().
		SetMaxPoolSize(DefaultMaxPoolSize).
		SetServerSelectionTimeout(DefaultServerSelectionTimeout).
		SetTimeout(DefaultSocketTimeout).
		// A success ack means durable (PROTOCOL.md): majority-acknowledged writes survive
		// a primary failover. Retryable writes let the driver resend a write once across
		// a failover; every write here is idempotent or guarded, so that is safe.
		SetWriteConcern(writeconcern.Majority()).
		SetRetryWrites(true).
		ApplyURI(opts.URI)
	if opts.MaxPoolSize > 0 {
		co.SetMaxPoolSize(opts.MaxPoolSize)
	}
	if opts.ServerSelectionTimeout > 0 {
		co.SetServerSelectionTimeout(opts.ServerSelectionTimeout)
	}
	if opts.SocketTimeout > 0 {
		co.SetTimeout(opts.SocketTimeout)
	}
	opts.ServerSelectionTimeout = *co.ServerSelectionTimeout
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	s := newStore(client, opts)
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongo: cannot reach %v: %w", cs.Hosts, err)
	}
	if s.locks.enabled, err = s.detectNonAtomicUpdates(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if s.locks.enabled {
		s.log.Info().Msg("server is FerretDB: its updates are not atomic, so this process serialises updates per document")
	}
	if s.caps, _, err = s.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	go s.holeLoop()
	if opts.SweepInterval > 0 {
		go s.sweepLoop(opts.SweepInterval)
	} else {
		close(s.sweepDone)
	}
	return s, nil
}

func newStore(client *mongo.Client, opts Options) *Store {
	db := client.Database(opts.Database)
	return &Store{
		client: client, db: db, log: opts.Logger, opts: opts,
		users:         db.Collection(collUsers),
		chats:         db.Collection(collChats),
		messages:      db.Collection(collMessages),
		requests:      db.Collection(collFriendRequests),
		notifications: db.Collection(collNotifications),
		readMarks:     db.Collection(collReadMarks),
		friendships:   db.Collection(collFriendships),
		blocks:        db.Collection(collBlocks),
		meta:          db.Collection(collMeta),
		attachments:   db.Collection(collAttachments),
		files:         db.Collection(uploadsBucket + ".files"),
		chunks:        db.Collection(uploadsBucket + ".chunks"),
		stop:          make(chan struct{}),
		sweepDone:     make(chan struct{}),
		holesDone:     make(chan struct{}),
	}
}

// Ping implements models.Store: one round trip to the primary.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr(s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err())
}

// Name implements models.Store.
func (s *Store) Name() string { return "mongodb" }

// Database returns the name of the database the store uses.
func (s *Store) Database() string { return s.opts.Database }

// Close stops the sweep (waiting for a running pass to end) and disconnects. Calls made
// after Close fail with ErrUnavailable.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.sweepDone
		<-s.holesDone
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.client.Disconnect(ctx)
	})
	return err
}

// detached returns a context for a clean-up step that must run even when the caller's
// context is already done (filling a seq hole after a failed insert), bounded so that a
// dead server cannot hold the caller.
func (s *Store) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.opts.ServerSelectionTimeout+time.Second)
}
