package handlers

import (
	"strings"
	"testing"
)

func TestReactionEmoji(t *testing.T) {
	for _, s := range []string{
		"👍", "❤️", "❤", "👍🏽", "👍🏿", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🧑🏿‍🤝‍🧑🏻", "👩🏻‍❤️‍💋‍👨🏼",
		"🇫🇷", "🇯🇵", "1️⃣", "#⃣", "*️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🫠", "☺️", "©️", "🤌", "😀", "🚀", "🐈‍⬛", "❤️‍🔥",
		":+1:", ":party_parrot:", ":a-b:", ":x:", ":" + strings.Repeat("a", 30) + ":",
	} {
		if err := reactionEmoji("emoji", s); err != nil {
			t.Errorf("%q (%U) refused: %v", s, []rune(s), err)
		}
	}
	for _, s := range []string{
		"", "a", "ok", "中", "1", "#", "👍👍", "👍 ", " 👍", "👍a", "🇫", "🇫🇷🇩🇪", "🏻", "\u200d", "\ufe0f",
		"👍\u0301", "👍\u200d", "👍\ufe0e", "a\u20e3", "🏴\U000E0067\U000E0062", "\U000E007F",
		"::", ":Thumbs:", ":a b:", ":abc", "abc:", ":é:", ":" + strings.Repeat("a", 31) + ":",
		"👍" + strings.Repeat("\U0001F3FB", 20), "\xff", ":a:b:",
	} {
		if err := reactionEmoji("emoji", s); err == nil {
			t.Errorf("%q (%U) accepted", s, []rune(s))
		}
	}
}

func TestExtendedPictographic(t *testing.T) {
	// Ranges that are Extended_Pictographic throughout (emoji-data.txt), and some that are not.
	for _, r := range [][2]rune{{0x1F600, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F90C, 0x1F93A}, {0x2600, 0x2605}, {0xA9, 0xA9}, {0x203C, 0x203C}} {
		for c := r[0]; c <= r[1]; c++ {
			if !isExtendedPictographic(c) {
				t.Errorf("%U is Extended_Pictographic", c)
			}
		}
	}
	for _, c := range []rune{'a', 'Z', '0', '#', 0x4E2D, 0x1F3FB, 0x1F3FF, 0x1F1E6, 0x1F900, 0x200D, 0xFE0F, 0x0301, 0x20E3, 0xE007F, 0xA8, 0xAA} {
		if isExtendedPictographic(c) {
			t.Errorf("%U is not Extended_Pictographic", c)
		}
	}
}
