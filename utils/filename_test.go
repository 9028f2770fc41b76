package utils

import (
	"strings"
	"testing"
)

func TestSanitizeFilename(t *testing.T) {
	for raw, want := range map[string]string{
		"photo.png":                   "photo.png",
		"  report  final .pdf  ":      "report final .pdf",
		"../../etc/passwd":            "passwd",
		`C:\Users\me\cat.jpg`:         "cat.jpg",
		"a\x00b\x1fc\x7fd\u0085e.txt": "abcd e.txt",
		"evil\u202egnp.exe":           "evilgnp.exe", // a right-to-left override would show "exe.png"
		"zero\u200bwidth\ufeff.txt":   "zerowidth.txt",
		"line\u2028break\nname.txt":   "line break name.txt",
		"tab\tand\r\nnewline":         "tab and newline",
		`what"is<this>:|?*.txt`:       "what_is_this_____.txt",
		"...hidden":                   "hidden",
		"trailing...":                 "trailing",
		"Größe 😀.txt":                 "Größe 😀.txt",
		"\xff\xfe.bin":                "\uFFFD.bin",
		"":                            "upload.png",
		"   ":                         "upload.png",
		"/":                           "upload.png",
		"\u202e":                      "upload.png",
	} {
		if got := SanitizeFilename(raw, "image/png"); got != want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", raw, got, want)
		}
	}
	if got := SanitizeFilename("", "application/x-unknown"); got != "upload" {
		t.Errorf("no name, unknown type: %q", got)
	}
	long := strings.Repeat("é", 200) + ".jpeg" // 400 bytes + 5
	got := SanitizeFilename(long, "image/jpeg")
	if len(got) > 255 || !strings.HasSuffix(got, "é.jpeg") || !strings.HasPrefix(got, "éé") {
		t.Errorf("a long name: %d bytes %q, want ≤ 255 keeping .jpeg and whole characters", len(got), got)
	}
	if g := SanitizeFilename(strings.Repeat("x", 300), ""); len(g) != 255 {
		t.Errorf("a long name without extension: %d bytes", len(g))
	}
}

func TestContentDisposition(t *testing.T) {
	for _, c := range []struct{ disp, name, want string }{
		{"inline", "cat.png", `inline; filename="cat.png"; filename*=UTF-8''cat.png`},
		{"attachment", "a b.txt", `attachment; filename="a b.txt"; filename*=UTF-8''a%20b.txt`},
		{"attachment", `q"uo\te%.html`, `attachment; filename="q_uo_te_.html"; filename*=UTF-8''q%22uo%5Cte%25.html`},
		{"attachment", "Größe.pdf", `attachment; filename="Gr__e.pdf"; filename*=UTF-8''Gr%C3%B6%C3%9Fe.pdf`},
		{"attachment", "x;y=z,(1).txt", `attachment; filename="x;y=z,(1).txt"; filename*=UTF-8''x%3By%3Dz%2C%281%29.txt`},
	} {
		if got := ContentDisposition(c.disp, c.name); got != c.want {
			t.Errorf("ContentDisposition(%q, %q) =\n %s\nwant\n %s", c.disp, c.name, got, c.want)
		}
	}
}
