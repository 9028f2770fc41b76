package models

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Message search (PROTOCOL.md `message:search`) matches words, and what a word is and when
// two words are the same is decided here, once, for both stores: the SQLite store indexes
// the words SearchWords returns in its FTS5 table and the MongoDB store keeps them in each
// message's searchWords array, and both look up the words SearchTerms returns. So the two
// stores cannot disagree on what matches.
//
// The rules:
//
//   - The text is put in compatibility decomposition (NFKD: "é" becomes "e" + a combining
//     acute, "ﬁ" becomes "fi", a full-width "Ａ" an "A", "²" a "2"), every nonspacing
//     combining mark (Unicode category Mn: accents, diaeresis, cedilla, tone and vowel
//     marks) is dropped, the rest is case-folded (Unicode full case folding: "ß" matches
//     "ss", "Σ" and "ς" match "σ"), and composed again (NFC).
//   - A word is a longest run of letters (L*), numbers (N*) and the remaining combining
//     marks (Mc, Me). Everything else separates words: spaces, punctuation, symbols,
//     emoji. "don't" is the words "don" and "t"; "e-mail" is "e" and "mail"; a run of Han
//     or Thai characters with no spaces in it is one word.
//   - A word longer than MaxSearchWordRunes counts by its first MaxSearchWordRunes.
//   - A message matches a query when every word of the query is the start of some word of
//     the message (the whole word or a prefix: "hel" matches "hello" and "hel"), in any
//     order, anywhere in the text.

// MaxSearchWordRunes is how much of a word search keeps: longer words count by their first
// MaxSearchWordRunes (after folding).
const MaxSearchWordRunes = 64

// MaxSearchTerms is how many words a search query may hold.
const MaxSearchTerms = 10

// SearchWords returns the distinct words of text in the folded form search compares, in
// the order they first appear; nil when text has none.
func SearchWords(text string) []string {
	var (
		out  []string
		seen map[string]struct{} // once out outgrows a scan: a long text's words stay linear
	)
	forEachWord(text, func(w string) {
		if out == nil {
			out = make([]string, 0, min(len(text)/4+1, 64))
		}
		if seen != nil {
			if _, dup := seen[w]; dup {
				return
			}
			seen[w] = struct{}{}
			out = append(out, w)
			return
		}
		for _, prev := range out {
			if prev == w {
				return
			}
		}
		out = append(out, w)
		if len(out) == searchWordsScanned {
			seen = make(map[string]struct{}, 2*searchWordsScanned)
			for _, prev := range out {
				seen[prev] = struct{}{}
			}
		}
	})
	return out
}

// searchWordsScanned is how many distinct words SearchWords compares one by one before it
// keeps a set: a sentence costs no map, a 4,000-character list of words no quadratic scan.
const searchWordsScanned = 16

// SearchTerms returns the words of a search query (SearchWords of it): the words a
// matching message must have a word starting with. It is nil for a query without any
// letter or digit ("*", `"`, "--"), which matches nothing.
func SearchTerms(query string) []string { return SearchWords(query) }

// forEachWord calls yield with every word of text, folded, in order, repeats included.
func forEachWord(text string, yield func(string)) {
	if isASCII(text) {
		asciiWords(text, yield)
		return
	}
	splitWords(foldText(text), yield)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiWords is forEachWord for ASCII text, where decomposition changes nothing and case
// folding is lower-casing A-Z: the common case of the insert path, without allocations
// beyond the words.
func asciiWords(s string, yield func(string)) {
	isWord := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	for i := 0; i < len(s); {
		if !isWord(s[i]) {
			i++
			continue
		}
		j := i
		upper := false
		for j < len(s) && isWord(s[j]) {
			upper = upper || s[j] >= 'A' && s[j] <= 'Z'
			j++
		}
		w := s[i:min(j, i+MaxSearchWordRunes)]
		if upper {
			w = strings.ToLower(w)
		}
		yield(w)
		i = j
	}
}

// foldText decomposes, drops nonspacing marks, folds case, does both again (folding can
// produce decomposable characters), then composes.
func foldText(s string) string {
	s = foldCase(dropMn(norm.NFKD.String(s)))
	return norm.NFC.String(dropMn(norm.NFKD.String(s)))
}

func dropMn(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// foldCase maps every character to the lower case of its upper case, which puts all the
// cases of a letter on one form (ς, σ and Σ on σ; ı, i, I and İ on i; Cherokee on its
// small letters), and spells ß and ẞ "ss", as full case folding does. (golang.org/x/text's
// cases.Fold is not idempotent on Cherokee, which is why it is not used.)
func foldCase(s string) string {
	if strings.ContainsAny(s, "ßẞ") {
		s = strings.NewReplacer("ß", "ss", "ẞ", "ss").Replace(s)
	}
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// splitWords yields the runs of word runes of folded text, each cut to MaxSearchWordRunes.
func splitWords(s string, yield func(string)) {
	start, runes := -1, 0
	end := 0 // the byte where the current word's kept part ends
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start, runes = i, 0
			}
			if runes < MaxSearchWordRunes {
				runes++
				end = i + utf8.RuneLen(r)
			}
			continue
		}
		if start >= 0 {
			yield(s[start:end])
			start = -1
		}
	}
	if start >= 0 {
		yield(s[start:end])
	}
}

// SearchQuery selects a page of message:search results.
type SearchQuery struct {
	// UserID is the caller: only messages of chats they are a member of are searched.
	UserID string
	// ChatID, when set, narrows the search to that one chat (still only if UserID is a
	// member of it).
	ChatID string
	// Text is the query as the user typed it: plain text, whatever characters it holds;
	// the store searches for SearchTerms(Text), and a text without words matches nothing.
	Text string
	// Before, when set, asks for the results strictly after this one in the result order.
	Before *SearchCursor
	Limit  int
}

// SearchCursor positions search pages: it is the last message of the previous page, and
// the next page holds the results that come after it. Each store reads what its order
// needs: the SQLite store the message itself (by ID), the MongoDB store Seq within one
// chat and (CreatedAt, ID) across chats.
type SearchCursor struct {
	CreatedAt time.Time
	Seq       int64
	ID        string
}
