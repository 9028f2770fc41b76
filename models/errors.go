package models

import "errors"

// Store errors. Every store maps its driver's failures onto these so handlers can turn
// them into protocol codes without knowing which database is behind the interface.
var (
	// ErrNotFound: the document does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule or a compare-and-set precondition failed.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database could not be reached; the write did not happen (or its
	// outcome is unknown and a retry is safe because every write is idempotent or guarded).
	ErrUnavailable = errors.New("store unavailable")
)
