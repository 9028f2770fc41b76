package config

import (
	"time"
)

// Uploads bounds attachments (README "Attachments").
type Uploads struct {
	// MaxBytes is the largest upload accepted; a larger body is answered 413 and nothing
	// of it is kept.
	MaxBytes int64
	// TTL is how long an upload no message claimed is kept before the sweep removes it.
	TTL time.Duration
	// URLTTL is how long the signed url in an attachment view works.
	URLTTL time.Duration
}

func defaultUploads() Uploads {
	return Uploads{MaxBytes: 10 << 20, TTL: 24 * time.Hour, URLTTL: 5 * time.Minute}
}

// loadUploads reads MAX_UPLOAD_BYTES, UPLOAD_TTL_MS and UPLOAD_URL_TTL_MS.
func loadUploads(e *envReader, u *Uploads) {
	e.int64In("MAX_UPLOAD_BYTES", &u.MaxBytes, 1, 1<<30)
	e.millisIn("UPLOAD_TTL_MS", &u.TTL, time.Second, 365*24*time.Hour)
	e.millisIn("UPLOAD_URL_TTL_MS", &u.URLTTL, time.Second, 7*24*time.Hour)
}
