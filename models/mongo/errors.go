package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/parley-chat/parley/models"
)

// mapErr turns a driver error into the models vocabulary, so handlers answer protocol
// codes without knowing the database: a missing document is ErrNotFound, a uniqueness
// violation ErrConflict, and anything that means the server cannot be reached or cannot
// serve right now ErrUnavailable (wrapping the driver error for the logs). Errors that
// already are models errors pass through; anything else is a bug and is returned wrapped.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrUnavailable):
		return err
	case errors.Is(err, mongo.ErrNoDocuments):
		return models.ErrNotFound
	case isUnavailable(err):
		return fmt.Errorf("mongo: %w: %w", models.ErrUnavailable, err)
	case isDup(err):
		return fmt.Errorf("mongo: %w: %w", models.ErrConflict, err)
	}
	return fmt.Errorf("mongo: %w", err)
}

// isUnavailable reports whether err means the database could not be reached or could not
// serve the request right now. The caller's own cancellation is included: the write did
// not complete and a retry is safe, which is exactly what ErrUnavailable promises.
func isUnavailable(err error) bool {
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
		return true
	}
	if errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, topology.ErrTopologyClosed) {
		return true
	}
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		return true
	}
	var conn topology.ConnectionError
	if errors.As(err, &conn) {
		return true
	}
	var wq topology.WaitQueueTimeoutError
	if errors.As(err, &wq) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		if se.HasErrorLabel("RetryableWriteError") || se.HasErrorLabel("NetworkError") {
			return true
		}
		// Codes that mean "the deployment cannot serve this right now" rather than "this
		// request is wrong": a node shutting down, a primary stepping down, a host that
		// cannot be reached, a write concern not satisfied in time (outcome unknown; every
		// write here is safe to retry). Retrying later, against the new primary, cures them.
		for _, c := range [...]int{
			6,     // HostUnreachable
			7,     // HostNotFound
			64,    // WriteConcernFailed (wtimeout)
			89,    // NetworkTimeout
			91,    // ShutdownInProgress
			189,   // PrimarySteppedDown
			262,   // ExceededTimeLimit
			9001,  // SocketException
			10107, // NotWritablePrimary
			11600, // InterruptedAtShutdown
			11602, // InterruptedDueToReplStateChange
			13435, // NotPrimaryNoSecondaryOk
			13436, // NotPrimaryOrSecondary
		} {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}

// isDup reports a duplicate-key error (E11000). FerretDB 1.x answers an *update* that
// violates a unique index with an InternalError carrying SQLite's message instead, which
// means the same thing.
func isDup(err error) bool {
	if err == nil {
		return false
	}
	return mongo.IsDuplicateKeyError(err) || strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isRefused reports a server answering that it does not implement an option or a command
// (FerretDB's NotImplemented, MongoDB's CommandNotSupported / InvalidOptions / CannotCreateIndex
// for options it refuses), as opposed to a failure to reach it.
func isRefused(err error) bool {
	if err == nil || isUnavailable(err) {
		return false
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		switch ce.Code {
		case 238, // NotImplemented
			115, // CommandNotSupported
			72,  // InvalidOptions
			67,  // CannotCreateIndex
			2,   // BadValue
			9:   // FailedToParse
			return true
		}
	}
	return false
}

// errInvalidID reports an id a caller supplied for a new document that is not a 24-hex
// ObjectId string; it is a programming error, not a missing document.
func errInvalidID(kind, id string) error {
	return fmt.Errorf("mongo: invalid %s id %q", kind, id)
}
