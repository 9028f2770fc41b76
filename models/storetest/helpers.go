package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// Stores keep times at millisecond precision; the suite compares them at that precision.
const ms = time.Millisecond

// now is the current time in UTC, at the precision stores keep.
func now() time.Time { return time.Now().UTC().Truncate(ms) }

// malformedIDs are ids that are not 24-hex strings. Every store must treat them like ids
// that do not exist, never answer with a driver error, and never match anything.
var malformedIDs = []string{"xyz", "$ne", "", `{"$ne":null}`, "' OR '1'='1", "0123456789abcdef0123456g"}

func ptr[T any](v T) *T { return &v }

func fatalIf(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr checks that err wraps target.
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want one wrapping %q", what, err, target)
	}
}

// noRows accepts the two answers the conventions allow for a malformed or missing id in a
// method that is not a lookup: no error, or ErrNotFound.
func noRows(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		t.Errorf("%s: error = %v, want nil or ErrNotFound", what, err)
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Truncate(ms).Equal(want.Truncate(ms)) {
		t.Errorf("%s = %s, want %s", what, got.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
}

func sameTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	default:
		sameTime(t, what, *got, *want)
	}
}

func sameStrPtr(t *testing.T, what string, got, want *string) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, strp(got), strp(want))
	case *got != *want:
		t.Errorf("%s = %q, want %q", what, *got, *want)
	}
}

func strp(p *string) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// sameOrder checks that got holds exactly want, in that order (nil and empty are equal).
func sameOrder[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// sameSet checks that got holds exactly the elements of want, in any order.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s = %v, want (in any order) %v", what, got, want)
	}
}

// seqRange is lo, lo+1, …, hi (empty when hi < lo).
func seqRange(lo, hi int64) []int64 {
	var out []int64
	for s := lo; s <= hi; s++ {
		out = append(out, s)
	}
	return out
}

// number reads a JSON number from notification data, whichever Go type the store
// decoded it to.
func number(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return int64(x), float64(int64(x)) == x
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}
