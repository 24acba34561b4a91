package pluginsdk

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// encodings are the ways a server may echo a value; each case of TestScrub and the fuzz
// test wraps the value in one of them inside a longer message.
var encodings = map[string]func(string) string{
	"raw": func(s string) string { return s },
	"json": func(s string) string {
		b, _ := json.Marshal(map[string]any{"data": map[string]string{"value": s}})
		return string(b)
	},
	"json twice": func(s string) string {
		b, _ := json.Marshal(s)
		c, _ := json.Marshal(string(b))
		return string(c)
	},
	"json ascii": func(s string) string { // Python's json.dumps: every non-ASCII rune as \uXXXX
		var b strings.Builder
		for _, r := range s {
			if r < 0x80 && r >= 0x20 && r != '"' && r != '\\' {
				b.WriteRune(r)
				continue
			}
			q := strconv.QuoteToASCII(string(r))
			q = q[1 : len(q)-1]
			if strings.HasPrefix(q, `\U`) { // JSON has no \U: a surrogate pair
				r1, r2 := surrogates(r)
				q = `\u` + r1 + `\u` + r2
			}
			if strings.HasPrefix(q, `\x`) {
				q = `\u00` + q[2:]
			}
			b.WriteString(q)
		}
		return b.String()
	},
	"go quoted":     strconv.Quote,
	"go ascii":      strconv.QuoteToASCII,
	"url":           url.QueryEscape,
	"url path":      url.PathEscape,
	"html":          html.EscapeString,
	"base64":        func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"base64 url":    func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
	"base64 offset": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(`{"v":"` + s + `"}`)) },
	"base64 offset2": func(s string) string {
		return base64.StdEncoding.EncodeToString([]byte(`x` + s + `y`))
	},
	"hex":          func(s string) string { return hex.EncodeToString([]byte(s)) },
	"HEX":          func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) },
	"url in json":  func(s string) string { b, _ := json.Marshal(url.QueryEscape(s)); return string(b) },
	"json in html": func(s string) string { b, _ := json.Marshal(s); return html.EscapeString(string(b)) },
	"cut short": func(s string) string {
		if len(s) > 12 {
			return s[:12] + "..."
		}
		return s
	},
}

func surrogates(r rune) (string, string) {
	r -= 0x10000
	hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
	return strconv.FormatInt(int64(hi), 16), strconv.FormatInt(int64(lo), 16)
}

func TestScrubFindsEncodedValues(t *testing.T) {
	values := map[string]string{
		"ascii":     "sk-live-0123456789abcdef",
		"markup":    `<a href="x">&'"\n</a>`,
		"newlines":  "line one\nline two\ttabbed\r\n",
		"unicode":   "pässwörd-😀-密码-\u202e",
		"short":     "p4$$",
		"backslash": `C:\Users\x\u0041`,
		"percent":   "100%+ok%41",
		"multiline": "-----BEGIN KEY-----\nMIIB\n-----END KEY-----",
	}
	for vname, v := range values {
		for ename, enc := range encodings {
			text := "HTTP 400: invalid request body: " + enc(v) + " (request id 42)"
			if got, ok := Scrub(text, "unrelated-token", v); ok || got != "" {
				t.Errorf("value %s, encoding %s: the message was cleared", vname, ename)
			}
		}
	}
}

func TestScrubClearsInnocentText(t *testing.T) {
	cases := []struct {
		name, text string
		secrets    []string
	}{
		{"no secrets", "permission denied", nil},
		{"empty secret", "permission denied", []string{""}},
		{"vault 400", "check-and-set parameter did not match the current version", []string{"sk-live-0123456789abcdef"}},
		{"aws", "ValidationException: 1 validation error detected: Value at 'secretString' failed to satisfy constraint", []string{"correct horse battery staple"}},
		{"unicode text", "Zugriff verweigert für Pfad „secret/data/x“", []string{"hunter2!"}},
	}
	for _, c := range cases {
		got, ok := Scrub(c.text, c.secrets...)
		if !ok || got != c.text {
			t.Errorf("%s: not cleared (%q, %v)", c.name, got, ok)
		}
	}
}

func TestScrubCutsLongText(t *testing.T) {
	long := strings.Repeat("é", MaxServerText) // 2 bytes a rune
	got, ok := Scrub(long, "zzzzzzzz")
	if !ok || len(got) > MaxServerText+3 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(got, "éé") {
		t.Errorf("long text: got %d bytes, ok %v", len(got), ok)
	}
	// A value past the cut is cut away with the text, so it cannot be quoted.
	tail := strings.Repeat("a", 2*MaxServerText) + "sk-secret-value"
	if got, ok := Scrub(tail, "sk-secret-value"); !ok || strings.Contains(got, "sk-secret") {
		t.Errorf("value past the cut: quoted")
	}
}

// FuzzScrub: whatever the value and the surrounding text, a message holding the value in
// one of the encodings is never cleared, and a cleared message never holds the raw value.
func FuzzScrub(f *testing.F) {
	f.Add("sk-live-0123456789abcdef", "error: ", " end", uint8(0))
	f.Add("<&>\"'", `{"errors":["`, `"]}`, uint8(3))
	f.Add("😀\u202e\x01", "", "", uint8(7))
	names := make([]string, 0, len(encodings))
	for n := range encodings {
		names = append(names, n)
	}
	// Map iteration order is random: sort for a reproducible corpus.
	sortStrings(names)
	f.Fuzz(func(t *testing.T, value, before, after string, which uint8) {
		if value == "" || strings.ContainsRune(value, 0xFFFD) || !isUTF8(value) {
			return
		}
		enc := names[int(which)%len(names)]
		if strings.HasPrefix(enc, "base64 offset") && len(value) < 6 {
			return // too short to be told apart inside longer base64 (see Scrub)
		}
		text := before + encodings[enc](value) + after
		if len(text) > MaxServerText {
			return
		}
		if _, ok := Scrub(text, value); ok && enc != "cut short" {
			t.Errorf("encoding %s of a %d-byte value was cleared", enc, len(value))
		}
		if got, ok := Scrub(before+after, value); ok && strings.Contains(got, value) {
			t.Errorf("a cleared text holds the value")
		}
	})
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }
