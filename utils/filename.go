package utils

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFilenameBytes is the longest name an upload keeps (most file systems' limit).
const maxFilenameBytes = 255

// defaultExt names an upload that came without a name by its sniffed type.
var defaultExt = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
	"application/pdf": ".pdf", "application/zip": ".zip", "text/plain; charset=utf-8": ".txt",
}

// SanitizeFilename turns the name a client gave an upload into the one Parley keeps and
// sends back: invalid UTF-8 becomes U+FFFD; only the part after the last / or \ is kept;
// each run of white space (tabs, newlines, line and paragraph separators included) becomes
// one space; other control and format characters (C0, C1, DEL, bidi overrides and
// isolates, zero-width characters, byte order marks) are removed; the characters Windows refuses in names (< > : " | ? *) become _; spaces and
// dots are trimmed from both ends; the result is cut to 255 bytes, keeping a short
// extension. An empty result is "upload" plus the extension of contentType.
func SanitizeFilename(raw, contentType string) string {
	raw = strings.ToValidUTF8(raw, "\uFFFD")
	if i := strings.LastIndexAny(raw, `/\`); i >= 0 {
		raw = raw[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range raw {
		switch {
		case unicode.IsSpace(r): // tabs, newlines, NEL, line and paragraph separators too
			space = true
			continue
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r):
			continue
		case strings.ContainsRune(`<>:"|?*`, r):
			r = '_'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name := strings.Trim(b.String(), " .")
	if len(name) > maxFilenameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || len(ext) == len(name) {
			ext = ""
		}
		name = strings.TrimRight(cutUTF8(name[:len(name)-len(ext)], maxFilenameBytes-len(ext)), " .") + ext
	}
	if name == "" {
		name = "upload" + defaultExt[contentType]
	}
	return name
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ContentDisposition is the Content-Disposition header for a file name (RFC 6266):
// disposition ("inline" or "attachment"), a quoted ASCII fallback (anything outside
// printable ASCII, and " \ %, replaced by _) for old clients, and the exact name as an
// RFC 5987 ext-value (filename* with charset UTF-8, no language, percent-encoded bytes)
// that current browsers use.
func ContentDisposition(disposition, name string) string {
	var fallback, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(r)
		}
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			ext.WriteByte(c)
		} else {
			ext.WriteByte('%')
			ext.WriteByte(hex[c>>4])
			ext.WriteByte(hex[c&15])
		}
	}
	return disposition + `; filename="` + fallback.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar: RFC 5987 attr-char, the bytes an ext-value carries as they are.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
