package bus

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// A small MessagePack codec: what Node's notepack.io writes and reads, which is what
// @socket.io/redis-adapter puts on the wire.

var errMsgpack = errors.New("malformed msgpack")

// undefined is JavaScript's undefined (notepack's fixext 1 of type 0): dropped from
// objects, null in arrays, as JSON.stringify does.
type undefined struct{}

func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
	}
}

func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
	}
}

func appendStringHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		return append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
}

func appendString(b []byte, s string) []byte {
	return append(appendStringHeader(b, len(s)), s...)
}

func appendStringBytes(b []byte, s []byte) []byte {
	return append(appendStringHeader(b, len(s)), s...)
}

func appendBin(b []byte, p []byte) []byte {
	switch n := len(p); {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, p...)
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v < 128:
		return append(b, byte(v))
	case v < 0 && v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
	}
}

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

func appendNil(b []byte) []byte { return append(b, 0xc0) }

// decoder reads MessagePack into Go values: object (keys that are not strings are
// written as their text), []any, string, int64, uint64, float64, bool, nil, []byte
// (bin and JavaScript ArrayBuffers) and undefined.
type decoder struct {
	b     []byte
	depth int
}

const maxDepth = 64

func decodeMsgpack(b []byte) (any, error) {
	d := &decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || len(d.b) < n {
		return nil, errMsgpack
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p, nil
}

func (d *decoder) uint(n int) (uint64, error) {
	p, err := d.need(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	default:
		return binary.BigEndian.Uint64(p), nil
	}
}

func (d *decoder) value() (any, error) {
	c, err := d.need(1)
	if err != nil {
		return nil, err
	}
	t := c[0]
	switch {
	case t <= 0x7f:
		return int64(t), nil
	case t >= 0xe0:
		return int64(int8(t)), nil
	case t&0xf0 == 0x80:
		return d.mapOf(int(t & 0x0f))
	case t&0xf0 == 0x90:
		return d.arrayOf(int(t & 0x0f))
	case t&0xe0 == 0xa0:
		return d.str(int(t & 0x1f))
	}
	switch t {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (t - 0xc4))
		if err != nil {
			return nil, err
		}
		p, err := d.need(int(n))
		return append([]byte(nil), p...), err
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (t - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(int(n))
	case 0xca:
		n, err := d.uint(4)
		return float64(math.Float32frombits(uint32(n))), err
	case 0xcb:
		n, err := d.uint(8)
		return math.Float64frombits(n), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		n, err := d.uint(1 << (t - 0xcc))
		if err != nil {
			return nil, err
		}
		if n <= math.MaxInt64 {
			return int64(n), nil
		}
		return n, nil
	case 0xd0:
		n, err := d.uint(1)
		return int64(int8(n)), err
	case 0xd1:
		n, err := d.uint(2)
		return int64(int16(n)), err
	case 0xd2:
		n, err := d.uint(4)
		return int64(int32(n)), err
	case 0xd3:
		n, err := d.uint(8)
		return int64(n), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return d.ext(1 << (t - 0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (t - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (t - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.arrayOf(int(n))
	case 0xde, 0xdf:
		n, err := d.uint(2 << (t - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(int(n))
	}
	return nil, errMsgpack // 0xc1 is never used
}

func (d *decoder) str(n int) (any, error) {
	p, err := d.need(n)
	return string(p), err
}

// ext decodes the extensions notepack writes: type 0 of size 1 is undefined, type -1 the
// MessagePack timestamp (a Date, written as its ISO-8601 text, as JSON.stringify does),
// any other an ArrayBuffer (its bytes).
func (d *decoder) ext(n int) (any, error) {
	typ, err := d.need(1)
	if err != nil {
		return nil, err
	}
	p, err := d.need(n)
	if err != nil {
		return nil, err
	}
	switch {
	case typ[0] == 0 && n == 1:
		return undefined{}, nil
	case typ[0] == 0xff && n == 4:
		return jsTime(time.Unix(int64(binary.BigEndian.Uint32(p)), 0)), nil
	case typ[0] == 0xff && n == 8:
		v := binary.BigEndian.Uint64(p)
		return jsTime(time.Unix(int64(v&(1<<34-1)), int64(v>>34))), nil
	case typ[0] == 0xff && n == 12:
		return jsTime(time.Unix(int64(binary.BigEndian.Uint64(p[4:])), int64(binary.BigEndian.Uint32(p)))), nil
	default:
		return append([]byte(nil), p...), nil
	}
}

func (d *decoder) arrayOf(n int) (any, error) {
	if d.depth++; d.depth > maxDepth || n > len(d.b) {
		return nil, errMsgpack
	}
	defer func() { d.depth-- }()
	out := make([]any, n)
	for i := range out {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// object is a decoded map, in its wire order (JavaScript objects keep insertion order,
// and clients see the keys in the order the sender wrote them).
type object []member

type member struct {
	key string
	val any
}

// get returns the value of key, or nil.
func (o object) get(key string) any {
	for _, m := range o {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (d *decoder) mapOf(n int) (any, error) {
	if d.depth++; d.depth > maxDepth || n > len(d.b) {
		return nil, errMsgpack
	}
	defer func() { d.depth-- }()
	out := make(object, 0, n)
	for i := 0; i < n; i++ {
		k, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		out = append(out, member{key: keyText(k), val: v})
	}
	return out, nil
}
