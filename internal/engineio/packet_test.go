package engineio

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestFrameHeaderAtEveryLengthBoundary(t *testing.T) {
	for _, n := range []int{0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 70000} {
		data := bytes.Repeat([]byte("x"), n)
		p := BinaryPacket(data)
		f := p.frame()
		if f[0] != 0x80|opBinary {
			t.Fatalf("n=%d: first byte %#x", n, f[0])
		}
		var length, hdr int
		switch l := int(f[1]); {
		case l < 126:
			length, hdr = l, 2
		case l == 126:
			length, hdr = int(binary.BigEndian.Uint16(f[2:])), 4
		default:
			length, hdr = int(binary.BigEndian.Uint64(f[2:])), 10
		}
		if f[1]&0x80 != 0 {
			t.Fatalf("n=%d: server frames must not be masked", n)
		}
		if length != n || len(f) != hdr+n || !bytes.Equal(f[hdr:], data) {
			t.Fatalf("n=%d: header says %d, frame %d bytes (header %d)", n, length, len(f), hdr)
		}
		// RFC 6455 §5.2: the minimal length encoding.
		if (n < 126 && hdr != 2) || (n >= 126 && n <= 65535 && hdr != 4) || (n > 65535 && hdr != 10) {
			t.Fatalf("n=%d: non-minimal header of %d bytes", n, hdr)
		}
	}
}

func TestMessagePacketSharesOneBuffer(t *testing.T) {
	b := NewMessageBuffer(8)
	b = append(b, `2["hi"]`...)
	p := MessagePacket(b)
	if got := string(p.data()); got != `42["hi"]` {
		t.Fatalf("polling form %q", got)
	}
	if got := string(p.Data()); got != `2["hi"]` {
		t.Fatalf("Data %q", got)
	}
	f := p.frame()
	if f[0] != 0x81 || int(f[1]) != len(`42["hi"]`) || string(f[2:]) != `42["hi"]` {
		t.Fatalf("frame % x", f)
	}
	if &f[2] != &p.data()[0] {
		t.Fatal("the frame and the polling form must share the payload bytes")
	}
}

func TestMessagePacketRefusesForeignBuffers(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a buffer not from NewMessageBuffer was accepted")
		}
	}()
	MessagePacket([]byte("4hello"))
}

func TestDecodeText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		typ  byte
		data string
		ok   bool
	}{
		{"4hello", '4', "hello", true},
		{"3", '3', "", true},
		{"2probe", '2', "probe", true},
		{"6", '6', "", true},
		{"", 0, "", false},
		{"7", 0, "", false},
		{"abc", 0, "", false},
		{"/4", 0, "", false},
	} {
		p, err := decodeText([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if tc.ok && (p.typ != tc.typ || string(p.data) != tc.data) {
			t.Fatalf("%q: got %c %q", tc.in, p.typ, p.data)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	ps, err := decodePayload([]byte("4hello\x1ebAQIDBA==\x1e3"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || string(ps[0].data) != "hello" || !ps[1].binary || !bytes.Equal(ps[1].data, []byte{1, 2, 3, 4}) || ps[2].typ != typePong {
		t.Fatalf("got %+v", ps)
	}
	for _, bad := range []string{"", "abc", "4a\x1e", "\x1e4a", "4a\x1eb@@@", "4a\x1e\x1e4b", "b"} {
		if _, err := decodePayload([]byte(bad)); err == nil && bad != "b" {
			t.Fatalf("%q was accepted", bad)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4a\x1ebAQID", "2probe", "1", "b", "\x1e"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := decodePayload(b)
		if err == nil && len(ps) == 0 {
			t.Fatal("no packets and no error")
		}
	})
}
