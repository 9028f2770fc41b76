package sqlite

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/parley-chat/parley/models"
)

// Times are stored as integer Unix milliseconds (UTC): ordering and equality are exact in
// SQL, and milliseconds are what the wire format (toISOString) carries anyway.

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// normTime rounds t the way a store round trip does, so values a write returns equal the
// values a later read returns.
func normTime(t time.Time) time.Time { return fromMS(ms(t)) }

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := normTime(*t)
	return &v
}

func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullStr(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}

func strPtr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

// idList keeps the well-formed ids of ids (a malformed id matches nothing, as a missing
// one would) and encodes them as one JSON array for `IN (SELECT value FROM json_each(?))`,
// which keeps the SQL text constant and so preparable once. ok is false when no id is left.
func idList(ids []string) (arg string, ok bool) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if models.ValidID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return "", false
	}
	b, err := json.Marshal(valid)
	if err != nil { // cannot happen for []string
		return "", false
	}
	return string(b), true
}

// sqlLimit turns a "0 or less means all" limit into SQLite's "negative means all".
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
