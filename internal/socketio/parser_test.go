package socketio

import (
	"strings"
	"testing"
)

func TestDecodeEveryPacketType(t *testing.T) {
	cases := []struct {
		in          string
		typ         int
		nsp         string
		id          int64
		attachments int
		name        string
		args        []string
	}{
		{`0`, packetConnect, "/", -1, 0, "", nil},
		{`0{"token":"abc"}`, packetConnect, "/", -1, 0, "", nil},
		{`0/custom,{"token":"abc"}`, packetConnect, "/custom", -1, 0, "", nil},
		{`0/random`, packetConnect, "/random", -1, 0, "", nil},
		{`1`, packetDisconnect, "/", -1, 0, "", nil},
		{`1/custom,`, packetDisconnect, "/custom", -1, 0, "", nil},
		{`2["message",1,"2",{"3":[true]}]`, packetEvent, "/", -1, 0, "message", []string{`1`, `"2"`, `{"3":[true]}`}},
		{`2456["message-with-ack",1]`, packetEvent, "/", 456, 0, "message-with-ack", []string{`1`}},
		{`2/custom,7["e"]`, packetEvent, "/custom", 7, 0, "e", nil},
		{`2[ "spaced" , { "a" : [ 1 , 2 ] } ]`, packetEvent, "/", -1, 0, "spaced", []string{`{ "a" : [ 1 , 2 ] }`}},
		{`2["esc\"aped",["[",",","]"]]`, packetEvent, "/", -1, 0, `esc"aped`, []string{`["[",",","]"]`}},
		{`2[42,"x"]`, packetEvent, "/", -1, 0, "42", []string{`"x"`}},
		{`3456[1,"2"]`, packetAck, "/", 456, 0, "", nil},
		{`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, packetBinaryEvent, "/", -1, 2, "message", []string{`{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`}},
		{`52-789["m",1]`, packetBinaryEvent, "/", 789, 2, "m", []string{`1`}},
		{`61-/custom,9[{"_placeholder":true,"num":0}]`, packetBinaryAck, "/custom", 9, 1, "", nil},
		{`4{"message":"nope"}`, packetConnectError, "/", -1, 0, "", nil},
	}
	for _, tc := range cases {
		p, err := decodePacket([]byte(tc.in), 10)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if p.typ != tc.typ || p.nsp != tc.nsp || p.id != tc.id || p.attachments != tc.attachments {
			t.Fatalf("%s: got type %d nsp %q id %d attachments %d", tc.in, p.typ, p.nsp, p.id, p.attachments)
		}
		if tc.name != "" {
			if got := p.eventName(); got != tc.name {
				t.Fatalf("%s: name %q", tc.in, got)
			}
			var args []string
			for _, a := range p.args[1:] {
				args = append(args, string(a))
			}
			if strings.Join(args, "|") != strings.Join(tc.args, "|") {
				t.Fatalf("%s: args %q, want %q", tc.in, args, tc.args)
			}
		}
	}
}

func TestDecodeRefusesMalformedPackets(t *testing.T) {
	for _, in := range []string{
		``, `7`, `a`, `abc`, `/`,
		`2{}`,                                   // an event's payload must be an array
		`2abc["message"]`,                       // not JSON
		`2[]`,                                   // no event name
		`2[null]`,                               // the name must be a string or a number
		`2[{"a":1}]`,                            // ditto
		`2["connect"]`,                          // reserved names
		`2["disconnect",1]`,                     // reserved
		`2["newListener"]`,                      // reserved
		`2["a"`,                                 // unterminated
		`2["a"]x`,                               // trailing garbage
		`0"token"`,                              // CONNECT takes an object
		`0[1]`,                                  // ditto
		`1{}`,                                   // DISCONNECT takes nothing
		`3{}`,                                   // ACK takes an array
		`5["a"]`,                                // BINARY_EVENT needs an attachment count
		`5x-["a"]`,                              // ditto
		`511-["a"]`,                             // more attachments than allowed
		`599999-["a"]`,                          // absurd count
		`2` + strings.Repeat("9", 16) + `["a"]`, // ack id beyond JavaScript's safe integers
	} {
		if _, err := decodePacket([]byte(in), 10); err == nil {
			t.Errorf("%q was accepted", in)
		}
	}
}

func TestSplitArray(t *testing.T) {
	for in, want := range map[string]string{
		`[]`:                      ``,
		`[1]`:                     `1`,
		`[1,2,3]`:                 `1|2|3`,
		` [ "a" , [1,[2]] , {} ]`: `"a"|[1,[2]]|{}`,
		`["\\",","]`:              `"\\"|","`,
		`["x\"y",{"k":"}"}]`:      `"x\"y"|{"k":"}"}`,
	} {
		var got []string
		for _, e := range splitArray([]byte(in)) {
			got = append(got, string(e))
		}
		if strings.Join(got, "|") != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

func TestEncodePackets(t *testing.T) {
	enc := EncodeEvent("/", "message-back", [][]byte{[]byte(`1`), []byte(`"2"`)}, nil)
	if got := enc.packets[0].Text(); got != `42["message-back",1,"2"]` {
		t.Fatalf("event %q", got)
	}
	enc = EncodeEvent("/custom", "auth", [][]byte{[]byte(`{}`)}, nil)
	if got := enc.packets[0].Text(); got != `42/custom,["auth",{}]` {
		t.Fatalf("namespaced event %q", got)
	}
	enc = EncodeEvent("/", "m", [][]byte{[]byte(`{"_placeholder":true,"num":0}`)}, [][]byte{{1, 2}})
	if got := enc.packets[0].Text(); got != `451-["m",{"_placeholder":true,"num":0}]` || len(enc.packets) != 2 {
		t.Fatalf("binary event %q (%d packets)", got, len(enc.packets))
	}
	if got := encodeAck("/", 789, [][]byte{[]byte(`{"_placeholder":true,"num":0}`)}, [][]byte{{1}}); got[0].Text() != `461-789[{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary ack %q", got[0].Text())
	}
	if got := encodeAck("/custom", 3, nil, nil)[0].Text(); got != `43/custom,3[]` {
		t.Fatalf("empty ack %q", got)
	}
	if got := encodeSimple(packetConnectError, "/random", []byte(`{"message":"Invalid namespace"}`)).Text(); got != `44/random,{"message":"Invalid namespace"}` {
		t.Fatalf("connect error %q", got)
	}
	if got := string(appendJSONString(nil, "a\"b\\c\n\x01é\xff")); got != `"a\"b\\c\n\u0001é\ufffd"` {
		t.Fatalf("JSON string %s", got)
	}
	wire, ok := EncodedFromWire("/", enc.WireText(), [][]byte{{1, 2}})
	if !ok || wire.packets[0].Text() != enc.packets[0].Text() || wire.Event != "m" {
		t.Fatalf("from wire: %v %+v", ok, wire)
	}
	if _, ok := EncodedFromWire("/other", enc.WireText(), [][]byte{{1, 2}}); ok {
		t.Fatal("a packet of another namespace was taken")
	}
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{`2["a",1]`, `52-789["m",{"_placeholder":true,"num":0}]`, `0/custom,{}`, `3[1]`, `1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePacket(b, 10)
		if err != nil {
			return
		}
		if p.typ == packetEvent || p.typ == packetBinaryEvent {
			_ = p.eventName() // must not panic on anything the decoder accepted
		}
	})
}
