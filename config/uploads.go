package config

import (
	"fmt"
	"strconv"
	"strings"
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
func loadUploads(getenv func(string) string, u *Uploads) []error {
	var errs []error
	intIn := func(name string, lo, hi int64, dst *int64) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s: want an integer in [%d, %d], got %q", name, lo, hi, v))
			return
		}
		*dst = n
	}
	ms := func(name string, lo, hi time.Duration, dst *time.Duration) {
		n := int64(-1)
		intIn(name, lo.Milliseconds(), hi.Milliseconds(), &n)
		if n >= 0 {
			*dst = time.Duration(n) * time.Millisecond
		}
	}
	intIn("MAX_UPLOAD_BYTES", 1, 1<<30, &u.MaxBytes)
	ms("UPLOAD_TTL_MS", time.Second, 365*24*time.Hour, &u.TTL)
	ms("UPLOAD_URL_TTL_MS", time.Second, 7*24*time.Hour, &u.URLTTL)
	return errs
}
