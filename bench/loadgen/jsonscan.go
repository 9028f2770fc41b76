package main

import (
	"bytes"
	"encoding/json"
)

// Minimal JSON scanning for the hot path: received events are counted by name and only a
// few fields are looked at (an ack's success and code, a fan-out broadcast's id and pad),
// so instead of decoding whole payloads we skip over values. The scanner assumes
// well-formed JSON (the servers' JSON.stringify or encoding/json output) and reports
// ok=false on anything it cannot follow, never reading out of bounds.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++ // the escaped byte (for \uXXXX, the hex digits are plain bytes anyway)
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		// Brackets balance once strings (which may contain brackets) are skipped whole.
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	default: // number, true, false, null
		j := i
	scan:
		for ; j < len(b); j++ {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				break scan
			}
		}
		return j, j > i
	}
}

// field returns the raw value of key in the JSON object obj (top level only).
func field(obj []byte, key string) ([]byte, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false
	}
	for i < len(obj) && obj[i] == '"' {
		kend, ok := skipString(obj, i)
		if !ok {
			return nil, false
		}
		k := obj[i:kend]
		i = skipSpace(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		vend, ok := skipValue(obj, i)
		if !ok {
			return nil, false
		}
		if s, ok := unquote(k); ok && string(s) == key { // compared without a copy
			return obj[i:vend], true
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) || obj[i] != ',' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
	}
	return nil, false
}

// unquote returns the contents of the JSON string v: a subslice of v when it has no
// escapes (the usual case, no allocation), else a decoded copy.
func unquote(v []byte) ([]byte, bool) {
	if !isString(v) {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// jsonString decodes v if it is a JSON string.
func jsonString(v []byte) (string, bool) {
	b, ok := unquote(v)
	return string(b), ok
}

// isString reports whether v is a JSON string, without decoding it.
func isString(v []byte) bool { return len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' }

// truthy is JavaScript truthiness of a raw JSON value (what `if (res?.success)` tests).
func truthy(v []byte) bool {
	switch string(v) {
	case "", "false", "null", `""`:
		return false
	}
	if v[0] == '-' || (v[0] >= '0' && v[0] <= '9') {
		var f float64
		if json.Unmarshal(v, &f) == nil {
			return f != 0
		}
	}
	return true
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
