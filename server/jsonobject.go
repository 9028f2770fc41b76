package server

import (
	"encoding/json"
	"slices"
	"strconv"
)

// rawJSON is a value that already holds its JSON encoding (handlers encode a new message
// once for its broadcast and its ack).
type rawJSON interface{ RawJSON() []byte }

// encodeObject encodes a top-level result or payload object. Values that hold their own
// encoding are copied as they are — encoding/json would re-scan a Marshaler's output,
// which for a message costs more than the copy — and the rest go through encoding/json.
// Keys are sorted, as encoding/json sorts them.
func encodeObject(m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	size := 2 // the braces; sized so that a message's encoding is copied once
	for k, v := range m {
		keys = append(keys, k)
		size += len(k) + 4 // quotes, colon, comma
		if r, ok := v.(rawJSON); ok {
			size += len(r.RawJSON())
		} else {
			size += 16
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k) // keys are plain ASCII names
		b = append(b, ':')
		switch v := m[k].(type) {
		case rawJSON:
			b = append(b, v.RawJSON()...)
		case bool:
			b = strconv.AppendBool(b, v)
		default:
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			b = append(b, raw...)
		}
	}
	return append(b, '}'), nil
}

// encodePayload encodes what a handler emits: an object through encodeObject, anything
// else through encoding/json.
func encodePayload(payload any) ([]byte, error) {
	if m, ok := payload.(map[string]any); ok {
		return encodeObject(m)
	}
	return json.Marshal(payload)
}
