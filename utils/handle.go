package utils

// Handles are 3–32 characters of a-z A-Z 0-9 _ . at registration (POST /auth/register)
// and for users of external identity providers, and are stored and compared in lower
// case. This is the one definition of that character set: registration, external
// handles and @mentions (handlers/mention.go) all read it from here.
const (
	MinHandleLen = 3
	MaxHandleLen = 32
)

// IsHandleByte reports whether c may appear in a handle.
func IsHandleByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.'
}

// ValidHandle reports whether s is a well-formed handle (in any case).
func ValidHandle(s string) bool {
	if len(s) < MinHandleLen || len(s) > MaxHandleLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsHandleByte(s[i]) {
			return false
		}
	}
	return true
}
