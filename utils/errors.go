// Package utils holds the small, dependency-free building blocks the server and the
// handlers share: error codes, tokens, passwords, presence and typing state, rate limits.
package utils

import (
	"errors"
	"fmt"

	"github.com/parley-chat/parley/models"
)

// Error codes of the wire protocol (PROTOCOL.md "Acknowledgements").
const (
	CodeUnauthorized = "UNAUTHORIZED"
	CodeValidation   = "VALIDATION_ERROR"
	CodeNotFound     = "NOT_FOUND"
	CodeForbidden    = "FORBIDDEN"
	CodeConflict     = "CONFLICT"
	CodeRateLimited  = "RATE_LIMITED"
	CodeUnavailable  = "UNAVAILABLE"
	CodeInternal     = "INTERNAL"
	CodeTooLarge     = "PAYLOAD_TOO_LARGE"
)

// Issue is one field-level validation problem.
type Issue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// AppError is an error the client is allowed to see: a code and a human readable message.
type AppError struct {
	Code         string
	Message      string
	Issues       []Issue
	RetryAfterMs int64
}

func (e *AppError) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an AppError with a formatted message.
func Errorf(code, format string, args ...any) *AppError {
	return &AppError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a VALIDATION_ERROR about one field.
func Invalid(path, message string) *AppError {
	return &AppError{Code: CodeValidation, Message: path + ": " + message, Issues: []Issue{{Path: path, Message: message}}}
}

// NotFound is the one answer for anything missing or invisible to the caller, so the
// answer never tells whether the thing exists.
func NotFound(what string) *AppError {
	return &AppError{Code: CodeNotFound, Message: what + " not found"}
}

// Forbidden refuses an action the caller can see but may not take.
func Forbidden(message string) *AppError { return &AppError{Code: CodeForbidden, Message: message} }

// AsAppError turns any error into the AppError to send: AppErrors as they are, store
// errors into their codes, anything else into INTERNAL (the caller logs the original).
// internal reports whether the error was unexpected.
func AsAppError(err error) (appErr *AppError, internal bool) {
	var ae *AppError
	switch {
	case errors.As(err, &ae):
		return ae, false
	case errors.Is(err, models.ErrUnavailable):
		return &AppError{Code: CodeUnavailable, Message: "storage is unavailable, retry later"}, false
	case errors.Is(err, models.ErrNotFound):
		return NotFound("resource"), false
	case errors.Is(err, models.ErrConflict):
		return &AppError{Code: CodeConflict, Message: "conflict"}, false
	default:
		return &AppError{Code: CodeInternal, Message: "internal error"}, true
	}
}
