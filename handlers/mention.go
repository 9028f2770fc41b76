package handlers

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// Mentions
//
// A mention is "@" followed by a handle (utils.IsHandleByte: a-z A-Z 0-9 _ .), read in
// full: the handle runs to the first character that cannot be in one, so "@bobby" never
// mentions bob. The "@" must start the text or follow a character that is neither a
// handle character nor a letter or digit of any script, so the "@" of an e-mail address
// (ops@example.com, josé@example.com) starts no mention; and what follows the handle must
// not be a letter or digit (of another script: "@bobé") or another "@"
// ("@bob@example.com" is an address). Dots that end the run are sentence punctuation
// unless a member's handle ends with them: "thanks @bob." mentions bob.
//
// A candidate counts when it names a member of the chat, compared in lower case: handles
// are stored lower case. Anything else (a user outside the chat, a handle nobody has,
// "@everyone") is plain text, so a mention tells the sender nothing about who exists. The
// sender never mentions themself. Mentions are listed once each, in order of first
// mention.
//
// A message without "@" costs one IndexByte; one whose "@"s start no candidate costs the
// scan; only a message with a candidate reads the chat's handles, from mentionIndex.

// mentionScanner walks the mention candidates of a text.
type mentionScanner struct {
	text string
	pos  int
}

// next returns the next candidate: the handle as written and, when it ends with dots,
// the handle without them (else ""). ok is false at the end of the text.
func (s *mentionScanner) next() (handle, trimmed string, ok bool) {
	for s.pos < len(s.text) {
		i := strings.IndexByte(s.text[s.pos:], '@')
		if i < 0 {
			s.pos = len(s.text)
			return "", "", false
		}
		at := s.pos + i
		end := at + 1
		for end < len(s.text) && utils.IsHandleByte(s.text[end]) {
			end++
		}
		s.pos = end
		if end == at+1 || !mentionBoundaryBefore(s.text[:at]) || !mentionBoundaryAfter(s.text[end:]) {
			continue
		}
		handle = s.text[at+1 : end]
		trimmed = strings.TrimRight(handle, ".")
		if trimmed == handle {
			trimmed = ""
		}
		if len(handle) <= utils.MaxHandleLen && len(handle) >= utils.MinHandleLen ||
			len(trimmed) <= utils.MaxHandleLen && len(trimmed) >= utils.MinHandleLen {
			return handle, trimmed, true
		}
	}
	return "", "", false
}

// mentionBoundaryBefore reports whether a mention may start after before.
func mentionBoundaryBefore(before string) bool {
	if before == "" {
		return true
	}
	if c := before[len(before)-1]; c < utf8.RuneSelf {
		return !utils.IsHandleByte(c)
	}
	r, _ := utf8.DecodeLastRuneInString(before)
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// mentionBoundaryAfter reports whether a handle may end before after (which starts with
// a character that is no handle character, or is empty).
func mentionBoundaryAfter(after string) bool {
	if after == "" {
		return true
	}
	if c := after[0]; c < utf8.RuneSelf {
		return c != '@'
	}
	r, _ := utf8.DecodeRuneInString(after)
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// hasMentionCandidate reports whether text holds anything that could be a mention.
func hasMentionCandidate(text string) bool {
	if strings.IndexByte(text, '@') < 0 {
		return false
	}
	s := mentionScanner{text: text}
	_, _, ok := s.next()
	return ok
}

// mentionIndex maps the lower-case handles of a chat's members to their ids. It was built
// from chat (the cached chat's pointer): a change of membership replaces the cached chat,
// so an index whose chat is not the one in hand is stale. Handles never change (user:update
// cannot change one), so members' profiles need no check.
type mentionIndex struct {
	chat *models.Chat
	ids  map[string]string // "" marks a handle two members share in lower case (Node-era data): ambiguous, no mention
}

// lookup resolves a handle as written (any case) to a member id, or "".
func (x *mentionIndex) lookup(handle string) string {
	if len(handle) < utils.MinHandleLen || len(handle) > utils.MaxHandleLen {
		return ""
	}
	var buf [utils.MaxHandleLen]byte
	for i := 0; i < len(handle); i++ {
		c := handle[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return x.ids[string(buf[:len(handle)])] // no allocation: the compiler reads the bytes in place
}

// mentionIndexFor returns the handle index of chat's members, from the read cache when it
// was built from this very chat value, else from the members' profiles (themselves read
// through the cache: one store query at most, for the members not cached).
func (h *Handlers) mentionIndexFor(ctx context.Context, chat *models.Chat) (*mentionIndex, error) {
	now := time.Now()
	if x, ok := get(h.cache, h.cache.handles, chat.ID, now); ok && x.chat == chat {
		return x, nil
	}
	gen := h.cache.generation(CacheChat, chat.ID)
	users, err := h.cachedUsers(ctx, chat.Participants)
	if err != nil {
		return nil, err
	}
	x := &mentionIndex{chat: chat, ids: make(map[string]string, len(users))}
	for _, u := range users { // cachedUsers returns only the participants asked for
		key := strings.ToLower(u.Handle)
		if other, taken := x.ids[key]; taken && other != u.ID {
			x.ids[key] = ""
			continue
		}
		x.ids[key] = u.ID
	}
	put(h.cache, &h.cache.handles, CacheChat, chat.ID, gen, x, now)
	return x, nil
}

// resolveMentions returns the members of chat that text mentions (see above), in order of
// first mention, without senderID; nil when there are none.
func (h *Handlers) resolveMentions(ctx context.Context, chat *models.Chat, senderID, text string) ([]string, error) {
	if !hasMentionCandidate(text) {
		return nil, nil
	}
	x, err := h.mentionIndexFor(ctx, chat)
	if err != nil {
		return nil, err
	}
	return x.resolve(text, senderID), nil
}

// resolve returns the members text mentions, in order of first mention, without senderID;
// nil when there are none.
func (x *mentionIndex) resolve(text, senderID string) []string {
	var out []string
	s := mentionScanner{text: text}
	for {
		handle, trimmed, ok := s.next()
		if !ok {
			return out
		}
		id := x.lookup(handle)
		if id == "" && trimmed != "" {
			id = x.lookup(trimmed)
		}
		if id == "" || id == senderID || slices.Contains(out, id) {
			continue
		}
		if out == nil {
			out = make([]string, 0, 4)
		}
		out = append(out, id)
	}
}

// newlyMentioned returns the ids of now that were not in before.
func newlyMentioned(before, now []string) []string {
	var out []string
	for _, id := range now {
		if !slices.Contains(before, id) {
			out = append(out, id)
		}
	}
	return out
}
