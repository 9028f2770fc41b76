package handlers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The mention rules of mention.go, on a chat whose members are bob, bob.smith, carol_1,
// ops, dots.. (a handle that ends with dots), me (the sender) and Amy (a Node-era handle
// stored in capitals).
func TestMentionResolve(t *testing.T) {
	x := &mentionIndex{ids: map[string]string{
		"bob": "B", "bob.smith": "BS", "carol_1": "C", "ops": "O", "dots..": "D", "me_me": "ME", "amy": "A",
	}}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"no mention here", nil},
		{"hi @bob", []string{"B"}},
		{"@bob hi", []string{"B"}},
		{"@BOB and @Bob", []string{"B"}},                         // case-insensitive, each once
		{"@carol_1 then @bob", []string{"C", "B"}},               // order of first mention
		{"@bob @carol_1 @bob", []string{"B", "C"}},               //
		{"@bobby", nil},                                          // no prefix match
		{"@bob_", nil},                                           // '_' is a handle character: "bob_" is no member
		{"@bob.smith", []string{"BS"}},                           // the longest run
		{"@bob.smithy", nil},                                     //
		{"thanks @bob.", []string{"B"}},                          // a trailing dot is punctuation
		{"thanks @bob...", []string{"B"}},                        //
		{"see @dots..", []string{"D"}},                           // unless a member's handle ends with it
		{"@bob.smith.", []string{"BS"}},                          //
		{"(@bob), @carol_1: @ops!", []string{"B", "C", "O"}},     // punctuation around
		{"@bob's idea", []string{"B"}},                           //
		{"@bob-smith", []string{"B"}},                            // '-' is no handle character: ends the handle
		{"write to ops@example.com", nil},                        // an address
		{"ops+alerts@bob.example", nil},                          //
		{"mail bob@carol_1", nil},                                //
		{"@bob@example.com", nil},                                // an address after all
		{"josé@bob", nil},                                        // glued to a word of any script
		{"1@bob", nil},                                           //
		{"@bobé", nil},                                           // the handle runs on in another script
		{"@bob🎉", []string{"B"}},                                 // an emoji ends it
		{"日本 @bob。", []string{"B"}},                              //
		{"@@bob", []string{"B"}},                                 //
		{"@", nil},                                               //
		{"@ bob", nil},                                           //
		{"email@", nil},                                          //
		{"@everyone @here", nil},                                 // not a thing
		{"@stranger", nil},                                       // not a member
		{"@me_me talking to myself", nil},                        // never the sender
		{"@amy", []string{"A"}},                                  //
		{"@" + strings.Repeat("b", 33), nil},                     // longer than any handle
		{"@bo", nil},                                             //
		{"line one\n@bob\t@ops", []string{"B", "O"}},             //
		{"https://example.com/@bob", []string{"B"}},              // after a '/'
		{"@bob," + strings.Repeat(" @bob", 1000), []string{"B"}}, //
	} {
		got := x.resolve(tc.text, "ME")
		if !slices.Equal(got, tc.want) {
			t.Errorf("resolve(%q) = %v, want %v", tc.text, got, tc.want)
		}
		if has := hasMentionCandidate(tc.text); !has && len(tc.want) > 0 {
			t.Errorf("hasMentionCandidate(%q) = false, but it mentions %v", tc.text, tc.want)
		}
	}
	// An ambiguous handle (two Node-era users whose handles differ only in case) mentions
	// nobody.
	amb := &mentionIndex{ids: map[string]string{"kim": ""}}
	if got := amb.resolve("@Kim @kim", "ME"); got != nil {
		t.Errorf("ambiguous handle resolved to %v", got)
	}
}

// Texts that cannot mention anyone are recognised without a look at the chat.
func TestHasMentionCandidate(t *testing.T) {
	for _, text := range []string{"", "plain", "ops@example.com", "a@b", "@", "@ x", "@" + strings.Repeat("x", 40), "x@@y"} {
		if hasMentionCandidate(text) {
			t.Errorf("hasMentionCandidate(%q) = true", text)
		}
	}
	for _, text := range []string{"@bob", "hi @someone", "(@abc)"} {
		if !hasMentionCandidate(text) {
			t.Errorf("hasMentionCandidate(%q) = false", text)
		}
	}
}

func TestMentionResolveAllocations(t *testing.T) {
	x := &mentionIndex{ids: map[string]string{"bob": "B"}}
	for _, text := range []string{"plain text without any at sign", "write to ops@example.com", "@stranger"} {
		if n := testing.AllocsPerRun(100, func() { _ = x.resolve(text, "ME") }); n != 0 {
			t.Errorf("resolve(%q): %.0f allocations, want 0", text, n)
		}
	}
}

// BenchmarkMentionResolve is what resolveMentions adds to a send once the chat's handle
// index is at hand (from the read cache): the texts of BenchmarkMessageNew, against a
// chat of 50 members.
func BenchmarkMentionResolve(b *testing.B) {
	x := &mentionIndex{ids: map[string]string{}}
	for i := range 50 {
		x.ids[fmt.Sprintf("member%02d", i)] = fmt.Sprintf("%024d", i)
	}
	filler := strings.Repeat("lorem ipsum ", 8)
	for _, tc := range []struct{ name, text string }{
		{"plain", filler + "no mention here"},
		{"at-no-mention", filler + "write to ops@example.com"},
		{"two-mentions", filler + "@member07 and @Member31, look"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if hasMentionCandidate(tc.text) {
					_ = x.resolve(tc.text, "sender")
				}
			}
		})
	}
}
