package bus

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
)

var errJSON = errors.New("malformed JSON")

// jsonToMsgpack appends the MessagePack form of one JSON value (valid JSON, as the
// engine's strict parser or json.Marshal produced it). A Socket.IO attachment
// placeholder {"_placeholder":true,"num":i} becomes the attachment's bytes, as Node puts
// Buffers in the packets it publishes.
func jsonToMsgpack(out, js []byte, attachments [][]byte) ([]byte, error) {
	t := transcoder{in: js, out: out, attachments: attachments}
	t.skipSpace()
	if err := t.value(0); err != nil {
		return nil, err
	}
	return t.out, nil
}

type transcoder struct {
	in          []byte
	pos         int
	out         []byte
	attachments [][]byte
}

func (t *transcoder) skipSpace() {
	for t.pos < len(t.in) {
		switch t.in[t.pos] {
		case ' ', '\t', '\n', '\r':
			t.pos++
		default:
			return
		}
	}
}

func (t *transcoder) value(depth int) error {
	if depth > maxDepth || t.pos >= len(t.in) {
		return errJSON
	}
	switch c := t.in[t.pos]; {
	case c == '{':
		return t.object(depth)
	case c == '[':
		return t.array(depth)
	case c == '"':
		s, err := t.str()
		if err != nil {
			return err
		}
		t.out = appendStringBytes(t.out, s)
	case c == 't' && t.literal("true"):
		t.out = appendBool(t.out, true)
	case c == 'f' && t.literal("false"):
		t.out = appendBool(t.out, false)
	case c == 'n' && t.literal("null"):
		t.out = appendNil(t.out)
	case c == '-' || (c >= '0' && c <= '9'):
		return t.number()
	default:
		return errJSON
	}
	return nil
}

func (t *transcoder) literal(word string) bool {
	if len(t.in)-t.pos >= len(word) && string(t.in[t.pos:t.pos+len(word)]) == word {
		t.pos += len(word)
		return true
	}
	return false
}

// str reads a JSON string and returns its unescaped bytes.
func (t *transcoder) str() ([]byte, error) {
	start := t.pos
	t.pos++
	escaped := false
	for t.pos < len(t.in) {
		switch t.in[t.pos] {
		case '\\':
			escaped = true
			t.pos += 2
			continue
		case '"':
			t.pos++
			raw := t.in[start:t.pos]
			if !escaped {
				return raw[1 : len(raw)-1], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, errJSON
			}
			return []byte(s), nil
		}
		t.pos++
	}
	return nil, errJSON
}

func (t *transcoder) number() error {
	start := t.pos
	integer := true
	for t.pos < len(t.in) {
		c := t.in[t.pos]
		if c == '.' || c == 'e' || c == 'E' {
			integer = false
		} else if c != '-' && c != '+' && (c < '0' || c > '9') {
			break
		}
		t.pos++
	}
	text := string(t.in[start:t.pos])
	if integer {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			t.out = appendInt(t.out, n)
			return nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return errJSON
	}
	t.out = appendFloat(t.out, f)
	return nil
}

// array and object write their header with a 32-bit count and patch it once the count
// is known (valid MessagePack; notepack reads every header size).
func (t *transcoder) array(depth int) error {
	t.pos++
	at := len(t.out)
	t.out = append(t.out, 0xdd, 0, 0, 0, 0)
	n := 0
	for {
		t.skipSpace()
		if t.pos >= len(t.in) {
			return errJSON
		}
		if t.in[t.pos] == ']' {
			t.pos++
			break
		}
		if n > 0 {
			if t.in[t.pos] != ',' {
				return errJSON
			}
			t.pos++
			t.skipSpace()
		}
		if err := t.value(depth + 1); err != nil {
			return err
		}
		n++
	}
	putUint32(t.out[at+1:], n)
	return nil
}

func (t *transcoder) object(depth int) error {
	t.pos++
	at := len(t.out)
	t.out = append(t.out, 0xdf, 0, 0, 0, 0)
	n := 0
	placeholder, num := false, -1
	for {
		t.skipSpace()
		if t.pos >= len(t.in) {
			return errJSON
		}
		if t.in[t.pos] == '}' {
			t.pos++
			break
		}
		if n > 0 {
			if t.in[t.pos] != ',' {
				return errJSON
			}
			t.pos++
			t.skipSpace()
		}
		if t.pos >= len(t.in) || t.in[t.pos] != '"' {
			return errJSON
		}
		key, err := t.str()
		if err != nil {
			return err
		}
		t.out = appendStringBytes(t.out, key)
		t.skipSpace()
		if t.pos >= len(t.in) || t.in[t.pos] != ':' {
			return errJSON
		}
		t.pos++
		t.skipSpace()
		valAt := len(t.out)
		if err := t.value(depth + 1); err != nil {
			return err
		}
		switch string(key) {
		case "_placeholder":
			placeholder = len(t.out)-valAt == 1 && t.out[valAt] == 0xc3
		case "num":
			if v := t.out[valAt]; len(t.out)-valAt == 1 && v < 0x80 {
				num = int(v)
			}
		}
		n++
	}
	if n == 2 && placeholder && num >= 0 && num < len(t.attachments) {
		t.out = appendBin(t.out[:at], t.attachments[num])
		return nil
	}
	putUint32(t.out[at+1:], n)
	return nil
}

func putUint32(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

// appendJSON writes a decoded MessagePack value as JSON, the way JSON.stringify would see
// the JavaScript value. Bytes become attachment placeholders, collected in attachments.
func appendJSON(b []byte, v any, attachments *[][]byte) []byte {
	switch x := v.(type) {
	case nil, undefined:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float64:
		return appendJSNumber(b, x)
	case string:
		return appendQuoted(b, x)
	case []byte:
		b = append(b, `{"_placeholder":true,"num":`...)
		b = strconv.AppendInt(b, int64(len(*attachments)), 10)
		*attachments = append(*attachments, x)
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, attachments)
		}
		return append(b, ']')
	case object:
		b = append(b, '{')
		first := true
		for _, m := range x {
			if _, skip := m.val.(undefined); skip {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendQuoted(b, m.key)
			b = append(b, ':')
			b = appendJSON(b, m.val, attachments)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

func appendQuoted(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// appendJSNumber formats like JavaScript's Number#toString for finite values.
func appendJSNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// keyText is a map key as JavaScript would name the property.
func keyText(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return string(appendJSNumber(nil, x))
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// jsTime is a JavaScript Date as JSON.stringify writes it.
func jsTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// stringsOf reads an array of room names (numbers become their text, as Node's rooms
// may be numbers).
func stringsOf(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s := keyText(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}
