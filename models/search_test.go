package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSearchWords(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"Hello, World!", []string{"hello", "world"}},
		{"hello hello HELLO", []string{"hello"}},
		{"don't e-mail me@example.com", []string{"don", "t", "e", "mail", "me", "example", "com"}},
		{"Café crème brûlée", []string{"cafe", "creme", "brulee"}},
		{"cafe\u0301", []string{"cafe"}}, // decomposed é
		{"Straße STRASSE", []string{"strasse"}},
		{"ΟΔΥΣΣΕΎΣ ὀδυσσεύς", []string{"οδυσσευσ"}},
		{"ｆｕｌｌ ﬁne ²", []string{"full", "fine", "2"}},
		{"İstanbul ıi", []string{"istanbul", "ii"}},
		{"ᏺᏲ", []string{"ᏺᏺ"}}, // Cherokee small and capital
		{"我们明天见", []string{"我们明天见"}},
		{"한국어 텍스트", []string{"한국어", "텍스트"}},
		{"हिन्दी", []string{"हिनदी"}}, // the virama (Mn) goes, the vowel signs (Mc) stay
		{"مَرْحَبًا", []string{"مرحبا"}},
		{"👍🎉 ok👌", []string{"ok"}},
		{`"NEAR" * - : AND OR NOT ^ $ \ %`, []string{"near", "and", "or", "not"}},
		{"2024-05-01 v1.2", []string{"2024", "05", "01", "v1", "2"}},
		{"tab\tnew\nline", []string{"tab", "new", "line"}},
		{"\u00a0nbsp\u2003em", []string{"nbsp", "em"}},
		{"zero\u200bwidth", []string{"zero", "width"}},
		{strings.Repeat("x", 70), []string{strings.Repeat("x", 64)}},
		{strings.Repeat("é", 70), []string{strings.Repeat("e", 64)}},
		{strings.Repeat("Ä", 65) + " b", []string{strings.Repeat("a", 64), "b"}},
	} {
		if got := SearchWords(c.text); !slices.Equal(got, c.want) {
			t.Errorf("SearchWords(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if got := SearchTerms("*"); got != nil {
		t.Errorf("SearchTerms(*) = %q, want nil", got)
	}
	if got := strings.Join(SearchWords("Hi, YOU there you"), " "); got != "hi you there" {
		t.Errorf("SearchWords joined = %q", got)
	}
}

// The ASCII fast path answers what the general path answers.
func TestSearchWordsASCIIPath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "aAbBzZ09 _-.,'\"*:\t\n\x00\x7f"
	for range 20000 {
		n := r.IntN(90)
		b := make([]byte, n)
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(128))
			} else {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		s := string(b)
		var fast, slow []string
		asciiWords(s, func(w string) { fast = append(fast, w) })
		splitWords(foldText(s), func(w string) { slow = append(slow, w) })
		if !slices.Equal(fast, slow) {
			t.Fatalf("%q: ascii path %q, general path %q", s, fast, slow)
		}
	}
}

// Every word is made of letters, digits and marks only, is folded already (folding it
// again changes nothing), and is at most MaxSearchWordRunes long; the FTS5 index and the
// MongoDB regular expressions rely on it.
func TestSearchWordsAreFolded(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tables := []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Han, unicode.Greek, unicode.Cyrillic, unicode.Latin}
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(40) {
			tab := tables[r.IntN(len(tables))]
			rg := tab.R16
			if len(tab.R32) > 0 && r.IntN(3) == 0 {
				rr := tab.R32[r.IntN(len(tab.R32))]
				b.WriteRune(rune(rr.Lo) + rune(r.IntN(int(rr.Hi-rr.Lo)+1)/int(rr.Stride)*int(rr.Stride)))
				continue
			}
			if len(rg) == 0 {
				continue
			}
			rr := rg[r.IntN(len(rg))]
			b.WriteRune(rune(rr.Lo) + rune(r.IntN(int(rr.Hi-rr.Lo)+1)/int(rr.Stride)*int(rr.Stride)))
		}
		text := b.String()
		for _, w := range SearchWords(text) {
			if w == "" || utf8.RuneCountInString(w) > MaxSearchWordRunes {
				t.Fatalf("%q: word %q is empty or too long", text, w)
			}
			for _, c := range w {
				if !isWordRune(c) || unicode.Is(unicode.Mn, c) {
					t.Fatalf("%q: word %q holds %U", text, w, c)
				}
			}
			if again := SearchWords(w); len(again) != 1 || again[0] != w {
				t.Fatalf("%q: word %q folds again to %q", text, w, again)
			}
		}
	}
}

func BenchmarkSearchWords(b *testing.B) {
	ascii := "Hey, are we still on for lunch tomorrow at 12:30? I can book the usual place near the office."
	accented := "Salut ! On se retrouve au café demain à midi ? Je réserve la crêperie près du bureau."
	for _, c := range []struct{ name, text string }{{"ascii", ascii}, {"accented", accented}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				SearchWords(c.text)
			}
		})
	}
}

// Past the words compared one by one, repeats are still dropped and the order kept.
func TestSearchWordsManyDistinct(t *testing.T) {
	var text, want []string
	for i := range 40 {
		w := fmt.Sprintf("w%d", i)
		text, want = append(text, w), append(want, w)
	}
	text = append(text, "W3", "w30", "w0", "w39")
	if got := SearchWords(strings.Join(text, " ")); !slices.Equal(got, want) {
		t.Errorf("SearchWords = %v, want %v", got, want)
	}
}
