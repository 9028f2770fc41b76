package bus

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
)

// Bytes written by Node's notepack.io (the adapter's codec) for
//
//	["abc123", {type: 2, data: ["peer:event", {n: 1, s: 'é"x', f: 1.5, big: 12345678901,
//	  neg: -7, arr: [true, false, null], nested: {k: []}, u: undefined, d: new Date(0)},
//	  Buffer.from([1, 2, 3])], nsp: "/"}, {rooms: ["room-1"], except: ["sock-9"], flags: {}}]
const notepackBroadcast = "93a661626331323383a47479706502a46461746193aa706565723a6576656e7488a16e01a173a4c3a92278a166cb3ff8000000000000a3626967cf00000002dfdc1c35a36e6567f9a361727293c3c2c0a66e657374656481a16b90a164d6ff00000000c403010203a36e7370a12f83a5726f6f6d7391a6726f6f6d2d31a665786365707491a6736f636b2d39a5666c61677380"

func TestDecodeNodeBroadcast(t *testing.T) {
	raw, _ := hex.DecodeString(notepackBroadcast)
	v, err := decodeMsgpack(raw)
	if err != nil {
		t.Fatal(err)
	}
	arr := v.([]any)
	if arr[0] != "abc123" {
		t.Fatalf("uid %v", arr[0])
	}
	pkt := arr[1].(object)
	data := pkt.get("data").([]any)
	var attachments [][]byte
	got := string(appendJSON(nil, data[1], &attachments))
	want := `{"n":1,"s":"é\"x","f":1.5,"big":12345678901,"neg":-7,"arr":[true,false,null],"nested":{"k":[]},"d":"1970-01-01T00:00:00.000Z"}`
	if got != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
	if got := string(appendJSON(nil, data[2], &attachments)); got != `{"_placeholder":true,"num":0}` || !reflect.DeepEqual(attachments, [][]byte{{1, 2, 3}}) {
		t.Fatalf("buffer %s %v", got, attachments)
	}
	opts := arr[2].(object)
	if r := stringsOf(opts.get("rooms")); !reflect.DeepEqual(r, []string{"room-1"}) {
		t.Fatalf("rooms %v", r)
	}
	if e := stringsOf(opts.get("except")); !reflect.DeepEqual(e, []string{"sock-9"}) {
		t.Fatalf("except %v", e)
	}
}

func TestJSONToMsgpackRoundTrip(t *testing.T) {
	for _, js := range []string{
		`{"a":1,"b":[true,false,null],"c":"x\"y\\n","d":{"e":{"f":[]}},"g":-12.5,"h":1e300,"i":9007199254740993}`,
		`[]`, `{}`, `"é"`, `0`, `-1`, `127`, `128`, `-33`, `65536`, `4294967296`,
	} {
		mp, err := jsonToMsgpack(nil, []byte(js), nil)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		v, err := decodeMsgpack(mp)
		if err != nil {
			t.Fatalf("%s: decode: %v", js, err)
		}
		back := appendJSON(nil, v, nil)
		var want, got any
		_ = json.Unmarshal([]byte(js), &want)
		_ = json.Unmarshal(back, &got)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s came back as %s", js, back)
		}
	}
	// A placeholder becomes the attachment's bytes, as Node's Buffers travel.
	mp, err := jsonToMsgpack(nil, []byte(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":5}]`), [][]byte{{9}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := decodeMsgpack(mp)
	if got := v.([]any); !reflect.DeepEqual(got[0], []byte{9}) {
		t.Fatalf("placeholder became %#v", got[0])
	}
	if _, ok := v.([]any)[1].(object); !ok {
		t.Fatal("a placeholder for a missing attachment must stay an object")
	}
}

func TestDecodeRefusesMalformedMsgpack(t *testing.T) {
	for _, b := range []string{"", "c1", "92a1", "dc00ff", "de0001a161", "d9ff", "c7ff00"} {
		raw, _ := hex.DecodeString(b)
		if _, err := decodeMsgpack(raw); err == nil {
			t.Errorf("%s was accepted", b)
		}
	}
	// Deep nesting is refused rather than recursed into without bound.
	deep := make([]byte, 0, 200)
	for i := 0; i < 100; i++ {
		deep = append(deep, 0x91)
	}
	deep = append(deep, 0xc0)
	if _, err := decodeMsgpack(deep); err == nil {
		t.Error("100 nested arrays were accepted")
	}
}

func TestParseRequestJSONAndMsgpack(t *testing.T) {
	r, ok := parseRequest([]byte(`{"uid":"n1","type":2,"opts":{"rooms":["user:u"],"except":[]},"rooms":["chat:c"]}`))
	if !ok || r.uid != "n1" || r.typ != reqRemoteJoin || !reflect.DeepEqual(r.opts.Rooms, []string{"user:u"}) || !reflect.DeepEqual(r.rooms, []string{"chat:c"}) {
		t.Fatalf("JSON request %+v %v", r, ok)
	}
	raw, _ := hex.DecodeString("84a3756964a6616263313233a47479706502a46f70747382a5726f6f6d7391a6757365723a75a665786365707490a5726f6f6d7391a6636861743a63")
	r, ok = parseRequest(raw)
	if !ok || r.uid != "abc123" || r.typ != reqRemoteJoin || !reflect.DeepEqual(r.rooms, []string{"chat:c"}) {
		t.Fatalf("msgpack request %+v %v", r, ok)
	}
	for _, bad := range []string{`{`, `[]`, `{"type":"2"}`, "\x93"} {
		if _, ok := parseRequest([]byte(bad)); ok {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func FuzzDecodeMsgpack(f *testing.F) {
	raw, _ := hex.DecodeString(notepackBroadcast)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeMsgpack(b)
		if err == nil {
			_ = appendJSON(nil, v, &[][]byte{})
		}
	})
}
