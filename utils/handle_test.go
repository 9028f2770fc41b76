package utils

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidHandleIsTheRegistrationRule pins ValidHandle to the rule PROTOCOL.md states for
// POST /auth/register: 3–32 of a-z A-Z 0-9 _ .
func TestValidHandleIsTheRegistrationRule(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9_.]{3,32}$`)
	for c := 0; c < 256; c++ {
		s := strings.Repeat(string(rune(c)), 3)
		if c >= 0x80 {
			s = string([]byte{byte(c), byte(c), byte(c)})
		}
		if got, want := ValidHandle(s), re.MatchString(s); got != want {
			t.Errorf("ValidHandle(%q) = %v, the registration rule says %v", s, got, want)
		}
		if got, want := IsHandleByte(byte(c)), re.MatchString(s); got != want {
			t.Errorf("IsHandleByte(%#x) = %v, want %v", c, got, want)
		}
	}
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"ab", false}, {"abc", true}, {strings.Repeat("a", 32), true}, {strings.Repeat("a", 33), false},
		{"Mixed.Case_1", true}, {"dash-ed", false}, {"spa ce", false}, {"", false}, {"josé", false},
	} {
		if got := ValidHandle(tc.s); got != tc.want {
			t.Errorf("ValidHandle(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
