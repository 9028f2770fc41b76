package handlers

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/utils"
)

// Limits of the protocol.
const (
	maxTextRunes     = 4000
	maxImageLen      = 2048
	maxClientIDRunes = 64
	maxGroupOthers   = 200
)

// requireID checks that an id field is present. A present but malformed id is left to the
// store, which answers it like a missing one: NOT_FOUND, never a hint of what exists.
func requireID(path, id string) error {
	if id == "" {
		return utils.Invalid(path, "is required")
	}
	if len(id) > 64 {
		return utils.Invalid(path, "is too long")
	}
	return nil
}

// requireIDs checks a list of ids: between min and max entries, each present, no repeats.
func requireIDs(path string, ids []string, min, max int) error {
	if len(ids) < min || len(ids) > max {
		return utils.Invalid(path, "must hold between "+strconv.Itoa(min)+" and "+strconv.Itoa(max)+" ids")
	}
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if err := requireID(path, id); err != nil {
			return err
		}
		if _, dup := seen[id]; dup {
			return utils.Invalid(path, "must not repeat an id")
		}
		seen[id] = struct{}{}
	}
	return nil
}

// messageText trims and checks a message text: 1–4000 characters after trimming.
func messageText(path string, text *string) error {
	*text = strings.TrimSpace(*text)
	n := utf8.RuneCountInString(*text)
	if n == 0 {
		return utils.Invalid(path, "must not be empty")
	}
	if n > maxTextRunes {
		return utils.Invalid(path, "must be at most 4000 characters")
	}
	return nil
}

// optionalText trims a text that may be empty (a message with attachments) and checks
// it is at most 4000 characters.
func optionalText(path string, text *string) error {
	*text = strings.TrimSpace(*text)
	if utf8.RuneCountInString(*text) > maxTextRunes {
		return utils.Invalid(path, "must be at most 4000 characters")
	}
	return nil
}

// limit checks an optional page size and returns it or the default.
func limit(path string, v *int, def, max int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < 1 || *v > max {
		return 0, utils.Invalid(path, "must be between 1 and "+strconv.Itoa(max))
	}
	return *v, nil
}
