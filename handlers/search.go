package handlers

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// Limits of message:search (PROTOCOL.md).
const (
	maxSearchQueryRunes = 200
	defaultSearchLimit  = 20
	maxSearchLimit      = 50
)

// MessageSearchInput is the payload of message:search.
type MessageSearchInput struct {
	Query  string  `json:"query"`
	ChatID *string `json:"chatId"`
	Before *string `json:"before"`
	Limit  *int    `json:"limit"`
	terms  []string
	cursor *models.SearchCursor
	limit  int
}

// Validate checks the input, folds the query into its terms and decodes the cursor. The
// query is plain text: quotes, '*', '-', ':', NEAR, AND, OR mean nothing; only its words
// (letters and digits) are searched for.
func (in *MessageSearchInput) Validate() (err error) {
	in.Query = strings.TrimSpace(in.Query)
	q := in.Query
	if q == "" {
		return utils.Invalid("query", "must not be empty")
	}
	if utf8.RuneCountInString(q) > maxSearchQueryRunes {
		return utils.Invalid("query", "must be at most 200 characters")
	}
	in.terms = models.SearchTerms(q)
	if len(in.terms) > models.MaxSearchTerms {
		return utils.Invalid("query", "must hold at most 10 words")
	}
	if in.ChatID != nil {
		if err := requireID("chatId", *in.ChatID); err != nil {
			return err
		}
	}
	if in.limit, err = limit("limit", in.Limit, defaultSearchLimit, maxSearchLimit); err != nil {
		return err
	}
	if in.Before != nil {
		if in.cursor = decodeSearchCursor(*in.Before); in.cursor == nil {
			return utils.Invalid("before", "is not a cursor this server issued")
		}
	}
	return nil
}

// The search cursor is opaque to clients: base64url (no padding) of
// "<createdAt ms>:<seq>:<message id>", the last message of the page. Decoding is strict:
// the one encoding of well-formed values only, so nothing else reaches a store.
func encodeSearchCursor(m *models.Message) string {
	return base64.RawURLEncoding.EncodeToString([]byte(
		strconv.FormatInt(m.CreatedAt.UnixMilli(), 10) + ":" + strconv.FormatInt(m.Seq, 10) + ":" + m.ID))
}

// maxCursorMS is the end of year 9999, the last time the wire format can spell.
const maxCursorMS = 253402300799999

func decodeSearchCursor(s string) *models.SearchCursor {
	if len(s) > 128 {
		return nil
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 {
		return nil
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[1], 10, 64)
	id := parts[2]
	if err1 != nil || err2 != nil || at < 0 || at > maxCursorMS || seq < 1 ||
		!models.ValidID(id) || strings.ToLower(id) != id {
		return nil
	}
	c := &models.SearchCursor{CreatedAt: time.UnixMilli(at).UTC(), Seq: seq, ID: id}
	m := &models.Message{CreatedAt: c.CreatedAt, Seq: seq, ID: id}
	if encodeSearchCursor(m) != s { // "+1", "007" and other second spellings
		return nil
	}
	return c
}

// MessageSearch answers message:search: the caller's messages matching the query's words,
// newest first, paged by an opaque cursor. With chatId, only that chat, which the caller
// must be a member of (NOT_FOUND otherwise, as for a chat that does not exist).
func (h *Handlers) MessageSearch(ctx context.Context, c Caller, in *MessageSearchInput) (any, error) {
	q := models.SearchQuery{UserID: c.UserID, Text: in.Query, Before: in.cursor, Limit: in.limit + 1}
	if in.ChatID != nil {
		if _, err := h.memberChat(ctx, c.UserID, *in.ChatID); err != nil {
			return nil, err
		}
		q.ChatID = *in.ChatID
	}
	if len(in.terms) == 0 {
		// Punctuation and symbols only: plain text with no word in it matches nothing.
		return map[string]any{"messages": []models.MessageView{}, "nextCursor": nil}, nil
	}
	msgs, err := h.Store.SearchMessages(ctx, q)
	if err != nil {
		return nil, err
	}
	var next *string
	if len(msgs) > in.limit {
		msgs = msgs[:in.limit]
		cur := encodeSearchCursor(msgs[len(msgs)-1])
		next = &cur
	}
	views, err := h.messageViews(ctx, msgs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"messages": views, "nextCursor": next}, nil
}
