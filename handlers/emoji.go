package handlers

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/parley-chat/parley/utils"
)

// What a reaction's `emoji` may be (PROTOCOL.md `message:react`), precisely:
//
//  1. A `:shortcode:`: a colon, one or more of a-z 0-9 _ + -, a colon; at most 32 bytes
//     with the colons (":+1:", ":party_parrot:"). Which shortcodes exist is the client's
//     business; the server keeps the string.
//  2. One emoji: exactly one extended grapheme cluster (Unicode UAX #29, as rivo/uniseg
//     v0.4.7 implements it for Unicode 15.0), at most 64 bytes, that is one of
//     - a flag: two Regional Indicator symbols (🇫🇷);
//     - a keycap: one of 0-9 # *, optionally U+FE0F, then U+20E3 (1️⃣);
//     - an emoji sequence: an Extended_Pictographic code point (the property UAX #29
//     gives emoji: every emoji character, plus code points set aside for future emoji
//     and a few pictographs such as ★), followed only by emoji components:
//     U+FE0F (emoji presentation), skin tone modifiers U+1F3FB–1F3FF, and
//     U+200D (ZWJ) each followed by another Extended_Pictographic code point
//     (👍 ❤️ ❤ 👍🏽 👩‍💻 🏳️‍🌈), or ending in a tag sequence, tags U+E0020–E007E closed
//     by U+E007F (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
//
// So text ("ok", "a", "中"), two emoji ("👍👍"), an emoji with anything else in its
// cluster (a combining accent, a trailing ZWJ, U+FE0E text presentation) and a lone
// component (a skin tone, one Regional Indicator) are refused. Whether a sequence is in
// Unicode's list of recommended emoji is not checked: clients render what they can.
const (
	maxEmojiBytes     = 64
	maxShortcodeBytes = 32
)

// reactionEmoji checks a reaction's emoji field.
func reactionEmoji(path, s string) error {
	switch {
	case s == "":
		return utils.Invalid(path, "is required")
	case s[0] == ':':
		if !isShortcode(s) {
			return utils.Invalid(path, "a shortcode is a :name: of a-z 0-9 _ + - at most 32 bytes long")
		}
	case !isEmoji(s):
		return utils.Invalid(path, "must be one emoji, or a :shortcode:")
	}
	return nil
}

func isShortcode(s string) bool {
	if len(s) < 3 || len(s) > maxShortcodeBytes || s[0] != ':' || s[len(s)-1] != ':' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// isEmoji reports whether s is exactly one emoji (see the definition above).
func isEmoji(s string) bool {
	if len(s) > maxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	if _, rest, _, _ := uniseg.FirstGraphemeClusterInString(s, -1); rest != "" {
		return false // more than one grapheme cluster
	}
	runes := []rune(s)
	first := runes[0]
	switch {
	case isRegionalIndicator(first):
		return len(runes) == 2 && isRegionalIndicator(runes[1])
	case first == '#' || first == '*' || '0' <= first && first <= '9':
		return len(runes) == 2 && runes[1] == 0x20E3 ||
			len(runes) == 3 && runes[1] == 0xFE0F && runes[2] == 0x20E3
	case !isExtendedPictographic(first):
		return false
	}
	for i := 1; i < len(runes); i++ {
		switch r := runes[i]; {
		case r == 0xFE0F, 0x1F3FB <= r && r <= 0x1F3FF:
		case r == 0x200D:
			if i+1 == len(runes) || !isExtendedPictographic(runes[i+1]) {
				return false
			}
			i++ // the pictograph the ZWJ joins
		case 0xE0020 <= r && r <= 0xE007E:
			// A tag sequence runs to the end and is closed by CANCEL TAG.
			for _, t := range runes[i+1 : len(runes)-1] {
				if t < 0xE0020 || t > 0xE007E {
					return false
				}
			}
			return runes[len(runes)-1] == 0xE007F
		default:
			return false
		}
	}
	return true
}

func isRegionalIndicator(r rune) bool { return 0x1F1E6 <= r && r <= 0x1F1FF }

// isExtendedPictographic reports whether r has Unicode's Extended_Pictographic property.
// uniseg holds that property (rule GB11 of UAX #29 needs it) but does not export it, and
// GB11 is how to read it without a second copy of Unicode's tables: after "😀" and a ZWJ,
// a code point stays in the same grapheme cluster if and only if it is
// Extended_Pictographic (GB11) or an Extend, ZWJ or SpacingMark (GB9, GB9a); those three
// also stay after "a", where an Extended_Pictographic code point starts a new cluster.
func isExtendedPictographic(r rune) bool {
	if r < 0xA9 { // the first Extended_Pictographic code point is U+00A9 ©
		return false
	}
	c := string(r)
	return uniseg.GraphemeClusterCount("\U0001F600\u200D"+c) == 1 && uniseg.GraphemeClusterCount("a"+c) == 2
}
