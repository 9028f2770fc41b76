package utils

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
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
	return NewStrictDecoder(reflect.TypeOf(dst)).Decode(raw, dst)
}

// StrictDecoder is DecodeStrict for one destination type, with what it learns of the type
// by reflection learned once: an event's input type gets one when its handler is bound.
type StrictDecoder struct {
	fields []string // the struct's JSON field names; nil when it is not a struct
	nested bool     // hasNestedStruct
}

// NewStrictDecoder prepares decoding into values of type t (a struct or a pointer to one).
func NewStrictDecoder(t reflect.Type) *StrictDecoder {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	d := &StrictDecoder{}
	if t == nil || t.Kind() != reflect.Struct {
		return d
	}
	d.fields = jsonFieldNames(t)
	d.nested = hasNestedStruct(t)
	return d
}

// Decode decodes raw into dst, which must be of the type the decoder was made for.
func (d *StrictDecoder) Decode(raw []byte, dst any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return Invalid("payload", "must be an object")
	}
	if err := d.exactFieldNames(trimmed); err != nil {
		return err
	}
	if !d.nested {
		// Top-level keys are checked exactly above and there is nothing deeper to check:
		// one json.Unmarshal (which also refuses trailing data) does the rest.
		if err := json.Unmarshal(trimmed, dst); err != nil {
			return decodeError(err)
		}
		return nil
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

// hasNestedStruct reports whether dst's struct has a field holding a struct of its own
// (through pointers, slices or maps) that decodes field by field, whose unknown keys
// only the decoder's DisallowUnknownFields catches.
func hasNestedStruct(t reflect.Type) bool {
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	for i := range t.NumField() {
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array || ft.Kind() == reflect.Map {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshaler) && ft != reflect.TypeFor[time.Time]() {
			return true
		}
	}
	return false
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
// It scans the keys in place (no decoding); malformed JSON is left to the decoder.
func (d *StrictDecoder) exactFieldNames(raw []byte) error {
	if d.fields == nil {
		return nil
	}
	var bad string
	eachTopLevelKey(raw, func(key []byte) bool {
		for _, f := range d.fields {
			if f == string(key) {
				return true
			}
		}
		bad = string(key)
		return false
	})
	if bad != "" {
		return Invalid(bad, "unknown field")
	}
	return nil
}

// jsonFieldNames are the names encoding/json gives the exported fields of struct t.
func jsonFieldNames(t reflect.Type) []string {
	names := []string{}
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
		names = append(names, name)
	}
	return names
}

// eachTopLevelKey calls fn with each key of the JSON object raw (unescaped when it has
// escapes) until fn returns false. It stops quietly at anything malformed.
func eachTopLevelKey(raw []byte, fn func(key []byte) bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return // "}" or malformed
		}
		end, escaped := stringEnd(raw, i)
		if end < 0 {
			return
		}
		key := raw[i+1 : end-1]
		if escaped {
			var s string
			if json.Unmarshal(raw[i:end], &s) != nil {
				return
			}
			key = []byte(s)
		}
		if !fn(key) {
			return
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return
		}
		if i = skipValue(raw, skipSpace(raw, i+1)); i < 0 {
			return
		}
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] (a quote), and
// whether it holds escapes; -1 if it does not end.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just past the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		return j
	}
}
