package main

import "testing"

func TestParseSIO(t *testing.T) {
	for _, tc := range []struct {
		in    string
		typ   byte
		main  bool
		ackID int64
		data  string
	}{
		{`2["m",{"id":"b1"}]`, '2', true, -1, `["m",{"id":"b1"}]`},
		{`317[{"success":true}]`, '3', true, 17, `[{"success":true}]`},
		{`0{"sid":"x"}`, '0', true, -1, `{"sid":"x"}`},
		{`2/admin,5["e"]`, '2', false, 5, `["e"]`},
		{`2/,["e"]`, '2', true, -1, `["e"]`},
		{`1`, '1', true, -1, ``},
	} {
		pk, ok := parseSIO([]byte(tc.in))
		if !ok || pk.typ != tc.typ || pk.mainN != tc.main || pk.ackID != tc.ackID || string(pk.data) != tc.data {
			t.Errorf("parseSIO(%q) = %+v (data %q), want %c %v %d %q", tc.in, pk, pk.data, tc.typ, tc.main, tc.ackID, tc.data)
		}
	}
}

func TestParseEventAndArgs(t *testing.T) {
	data := []byte(` [ "message:new" , {"message":{"text":"a \"]\" b","n":[1,{"x":"}"}]}} , 2 ]`)
	name, rest, ok := parseEvent(data)
	if !ok || string(name) != "message:new" {
		t.Fatalf("name %q ok %v", name, ok)
	}
	a1, rest, ok := nextArg(rest)
	if !ok || string(a1) != `{"message":{"text":"a \"]\" b","n":[1,{"x":"}"}]}}` {
		t.Fatalf("arg1 %q", a1)
	}
	a2, _, ok := nextArg(rest)
	if !ok || string(a2) != "2" {
		t.Fatalf("arg2 %q", a2)
	}
	if n, _, ok := parseEvent([]byte(`["a\u0062"]`)); !ok || string(n) != "ab" {
		t.Fatalf("escaped name %q", n)
	}
	if _, _, ok := parseEvent([]byte(`["unterminated`)); ok {
		t.Fatal("unterminated name accepted")
	}
}

func TestField(t *testing.T) {
	obj := []byte(`{"pad":"x{\"id\":1}","nested":{"id":"no"},"id":"b42","success":true,"code":null}`)
	if v, ok := field(obj, "id"); !ok || string(v) != `"b42"` {
		t.Errorf("id = %q %v", v, ok)
	}
	if v, ok := field(obj, "pad"); !ok || !isString(v) {
		t.Errorf("pad = %q", v)
	}
	if _, ok := field(obj, "missing"); ok {
		t.Error("missing found")
	}
	if _, ok := field([]byte(`"str"`), "id"); ok {
		t.Error("field of a non-object")
	}
	if v, _ := field(obj, "success"); !truthy(v) {
		t.Error("success not truthy")
	}
	for _, f := range []string{"false", "null", "0", `""`, "0.0", "-0"} {
		if truthy([]byte(f)) {
			t.Errorf("%s truthy", f)
		}
	}
	if v := firstElem([]byte(`[{"a":1},2]`)); string(v) != `{"a":1}` {
		t.Errorf("firstElem = %q", v)
	}
	if v := firstElem([]byte(`[]`)); v != nil {
		t.Errorf("firstElem([]) = %q", v)
	}
	if s := string(appendJSONString(nil, "a\"b\\c\n")); s != `"a\"b\\c\u000a"` {
		t.Errorf("appendJSONString = %s", s)
	}
}
