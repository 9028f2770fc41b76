package utils

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Validator is implemented by every event input: it checks what the types cannot.
type Validator interface {
	Validate() error
}

// DecodeStrict decodes a JSON object into dst, refusing unknown fields, wrong types,
// trailing data and anything that is not an object. Operator objects such as
// {"$ne": null} where a string or number belongs fail as wrong types, so they never reach
// a store query.
func DecodeStrict(raw []byte, dst any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return Invalid("payload", "must be an object")
	}
	if err := exactFieldNames(trimmed, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid("payload", "unexpected data after the object")
	}
	return nil
}

func decodeError(err error) *AppError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		path := typeErr.Field
		if path == "" {
			path = "payload"
		}
		return Invalid(path, fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.As(err, &syntaxErr):
		return Invalid("payload", "malformed JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(field, "unknown field")
	default:
		var ae *AppError
		if errors.As(err, &ae) {
			return ae
		}
		return Invalid("payload", "invalid payload")
	}
}

// jsonKind names a Go kind the way a JavaScript developer would.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}

// Nullable is a JSON field that distinguishes "absent" (Set false), "null" (Set true,
// Value nil) and a value.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON records that the field was present.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// exactFieldNames refuses top-level keys that match a field only case-insensitively:
// encoding/json would accept {"NAME": …} for `json:"name"`, and let it override "name".
func exactFieldNames(raw []byte, dst any) error {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil // the strict decode reports it
	}
	for key := range keys {
		if !hasJSONField(t, key) {
			return Invalid(key, "unknown field")
		}
	}
	return nil
}

func hasJSONField(t reflect.Type, key string) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return true
		}
	}
	return false
}
