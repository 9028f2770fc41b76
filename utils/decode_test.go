package utils

import (
	"errors"
	"strings"
	"testing"
)

type decodeInput struct {
	Name  string           `json:"name"`
	Count int              `json:"count"`
	Tags  []string         `json:"tags"`
	Inner *struct{ A int } `json:"inner"`
	Image Nullable[string] `json:"image"`
}

// validationPath decodes raw and returns the path of the single issue of the
// VALIDATION_ERROR it must fail with.
func validationPath(t *testing.T, raw string) string {
	t.Helper()
	var in decodeInput
	err := DecodeStrict([]byte(raw), &in)
	var ae *AppError
	if !errors.As(err, &ae) {
		t.Fatalf("DecodeStrict(%s) = %v, want an *AppError", raw, err)
	}
	if ae.Code != CodeValidation {
		t.Fatalf("DecodeStrict(%s) code = %s, want %s", raw, ae.Code, CodeValidation)
	}
	if len(ae.Issues) != 1 {
		t.Fatalf("DecodeStrict(%s) issues = %v, want exactly one", raw, ae.Issues)
	}
	return ae.Issues[0].Path
}

func TestDecodeStrictAcceptsAWellFormedObject(t *testing.T) {
	var in decodeInput
	raw := ` {"name":"ada","count":3,"tags":["a","b"],"inner":{"A":1},"image":"x.png"} `
	if err := DecodeStrict([]byte(raw), &in); err != nil {
		t.Fatalf("DecodeStrict: %v", err)
	}
	if in.Name != "ada" || in.Count != 3 || len(in.Tags) != 2 || in.Inner == nil || in.Inner.A != 1 {
		t.Fatalf("decoded %+v", in)
	}
	if !in.Image.Set || in.Image.Value == nil || *in.Image.Value != "x.png" {
		t.Fatalf("image = %+v", in.Image)
	}
}

func TestDecodeStrictRefusesUnknownFields(t *testing.T) {
	if p := validationPath(t, `{"name":"ada","isAdmin":true}`); p != "isAdmin" {
		t.Fatalf("path = %q, want isAdmin", p)
	}
}

func TestDecodeStrictRefusesWrongTypes(t *testing.T) {
	cases := map[string]string{
		`{"name":5}`:             "name",
		`{"name":true}`:          "name",
		`{"count":"5"}`:          "count",
		`{"count":1.5}`:          "count",
		`{"tags":"a"}`:           "tags",
		`{"tags":[1]}`:           "tags",
		`{"inner":[]}`:           "inner",
		`{"inner":"x"}`:          "inner",
		`{"image":5}`:            "image",
		`{"image":{"$ne":null}}`: "image",
	}
	for raw, want := range cases {
		if p := validationPath(t, raw); p != want {
			t.Errorf("DecodeStrict(%s) path = %q, want %q", raw, p, want)
		}
	}
}

// Operator objects are the NoSQL injection shape: they must never reach a query as a
// value where a string or a number belongs.
func TestDecodeStrictRefusesOperatorObjects(t *testing.T) {
	for _, raw := range []string{
		`{"name":{"$ne":null}}`,
		`{"name":{"$gt":""}}`,
		`{"count":{"$gt":0}}`,
		`{"tags":{"$in":["a"]}}`,
		`{"tags":[{"$ne":null}]}`,
	} {
		validationPath(t, raw)
	}
}

func TestDecodeStrictRefusesNonObjectPayloads(t *testing.T) {
	for _, raw := range []string{`[]`, `[{"name":"ada"}]`, `"ada"`, `5`, `true`, `false`, `{`, `{"name":`, `nul`, `x`} {
		validationPath(t, raw)
	}
}

func TestDecodeStrictNullAndEmptyPayloadsAreTheEmptyObject(t *testing.T) {
	for _, raw := range []string{`null`, ` null `, ``, `  `, `{}`} {
		in := decodeInput{Name: "kept"}
		if err := DecodeStrict([]byte(raw), &in); err != nil {
			t.Errorf("DecodeStrict(%q): %v", raw, err)
		}
		if in.Name != "kept" || in.Image.Set {
			t.Errorf("DecodeStrict(%q) changed the target: %+v", raw, in)
		}
	}
}

func TestDecodeStrictRefusesTrailingData(t *testing.T) {
	for _, raw := range []string{`{"name":"a"}{"name":"b"}`, `{"name":"a"} 5`, `{"name":"a"}]`, `{"name":"a"} x`} {
		p := validationPath(t, raw)
		if p != "payload" {
			t.Errorf("DecodeStrict(%s) path = %q, want payload", raw, p)
		}
	}
}

func TestDecodeStrictIssueMessagesSpeakJSON(t *testing.T) {
	var in decodeInput
	err := DecodeStrict([]byte(`{"count":"5"}`), &in)
	if err == nil || !strings.Contains(err.Error(), "must be a number, not string") {
		t.Fatalf("err = %v, want it to say the field must be a number", err)
	}
}

func TestNullableAbsentNullAndValue(t *testing.T) {
	var absent, null, value decodeInput
	if err := DecodeStrict([]byte(`{}`), &absent); err != nil {
		t.Fatal(err)
	}
	if absent.Image.Set || absent.Image.Value != nil {
		t.Errorf("absent: %+v, want Set=false", absent.Image)
	}
	if err := DecodeStrict([]byte(`{"image":null}`), &null); err != nil {
		t.Fatal(err)
	}
	if !null.Image.Set || null.Image.Value != nil {
		t.Errorf("null: %+v, want Set=true Value=nil", null.Image)
	}
	if err := DecodeStrict([]byte(`{"image":"a.png"}`), &value); err != nil {
		t.Fatal(err)
	}
	if !value.Image.Set || value.Image.Value == nil || *value.Image.Value != "a.png" {
		t.Errorf("value: %+v, want Set=true Value=a.png", value.Image)
	}
}

// encoding/json matches field names case-insensitively, so {"NAME": ...} or a second key
// {"Name": ...} beside "name" would reach the handler: neither is a protocol field, and
// a duplicate in another case lets two parsers of one payload disagree on its value.
func TestDecodeStrictRefusesFieldNamesInAnotherCase(t *testing.T) {
	for _, raw := range []string{`{"NAME":"ada"}`, `{"Name":"ada"}`, `{"name":"ada","NAME":"eve"}`} {
		var in decodeInput
		err := DecodeStrict([]byte(raw), &in)
		var ae *AppError
		if !errors.As(err, &ae) || ae.Code != CodeValidation {
			t.Errorf("DecodeStrict(%s) = %v (decoded name %q), want VALIDATION_ERROR", raw, err, in.Name)
		}
	}
}
