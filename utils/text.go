package utils

import (
	"strings"
	"unicode/utf8"
)

// MaxNameRunes is the longest user or chat name.
const MaxNameRunes = 100

// DisplayName trims and checks a user or chat name: 1–100 characters, no control
// characters.
func DisplayName(path string, name *string) error {
	*name = strings.TrimSpace(*name)
	n := utf8.RuneCountInString(*name)
	if n == 0 {
		return Invalid(path, "must not be empty")
	}
	if n > MaxNameRunes {
		return Invalid(path, "must be at most 100 characters")
	}
	if strings.ContainsFunc(*name, IsControl) {
		return Invalid(path, "must not contain control characters")
	}
	return nil
}

// IsControl reports ASCII control characters, which have no place in names or URLs.
func IsControl(r rune) bool { return r < 0x20 || r == 0x7f }
