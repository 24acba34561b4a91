package pluginsdk

import (
	"encoding/base64"
	"encoding/hex"
	"html"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Withheld is the fixed explanation a backend gives in place of a server's message that
// Scrub did not clear: say it after the status the server answered ("HTTP 400: " +
// Withheld).
const Withheld = "the server's message is not shown because it may contain the value sent"

// Limits of Scrub.
const (
	// MaxServerText is the longest server message Scrub clears; a longer one is cut to
	// this many bytes (at a rune boundary, with "...") before it is checked.
	MaxServerText = 1024
	// scrubWindow is the length of the pieces of a secret that are looked for in a message:
	// a server that echoes part of a value (cut at a length limit) gives it away too.
	scrubWindow = 8
	// scrubRounds bounds how often decoders are applied one after another (a value
	// URL-encoded inside a JSON string inside an HTML page is three rounds).
	scrubRounds = 3
	maxViews    = 64
)

// Scrub decides whether text, a message a server answered to a request that carried
// secrets (an entry's value, a credential), may be quoted to the user. It returns the text
// (cut to MaxServerText bytes) and true only when no secret of secrets is found in it in any
// of these forms: raw; JSON-escaped (\u003c, \", \/, surrogate pairs); Go-quoted (\x, \u,
// \U, octal); URL-encoded (%XX, + for space); HTML entities; base64 (standard or URL
// alphabet, padded or not, alone or, for a value of 6 bytes or more, at any alignment
// inside a longer base64 text); hexadecimal; and
// the same encodings nested up to three deep. A secret longer than 8 bytes also counts as
// found when any 8 consecutive bytes of it are found (an echo cut short). Otherwise it
// returns "" and false: the caller says the status and Withheld instead.
//
// Scrub is deliberately suspicious: a short secret ("on") is found in most texts, and then
// the text is not quoted. Empty secrets are ignored. It never returns an error and never
// puts a secret into its result.
func Scrub(text string, secrets ...string) (string, bool) {
	if len(text) > MaxServerText {
		cut := MaxServerText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "..."
	}
	var live []string
	for _, s := range secrets {
		if s != "" {
			live = append(live, s)
		}
	}
	if len(live) == 0 {
		return text, true
	}
	views := decodedViews(text)
	grams := map[string]bool{}
	for _, v := range views {
		for i := 0; i+scrubWindow <= len(v); i++ {
			grams[v[i:i+scrubWindow]] = true
		}
	}
	for _, s := range live {
		if foundIn(s, views, grams) {
			return "", false
		}
	}
	return text, true
}

// foundIn reports whether secret s, or an encoding of it, is in one of views (grams: every
// scrubWindow-byte piece of the views).
func foundIn(s string, views []string, grams map[string]bool) bool {
	if len(s) > scrubWindow {
		for i := 0; i+scrubWindow <= len(s); i++ {
			if grams[s[i:i+scrubWindow]] {
				return true
			}
		}
	}
	needles := []string{s}
	needles = append(needles, base64Cores(s)...)
	hexed := hex.EncodeToString([]byte(s))
	for _, v := range views {
		for _, n := range needles {
			if strings.Contains(v, n) {
				return true
			}
		}
		if strings.Contains(strings.ToLower(v), hexed) {
			return true
		}
	}
	return false
}

// base64Cores returns, for the standard and the URL alphabet, the value's own encoding
// (without padding) and, for each of the three alignments a value can have inside a longer
// base64 text, the characters that depend on the value's bytes alone. Cores shorter than 4
// characters are left out: they would be found in almost any text.
func base64Cores(s string) []string {
	var out []string
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		out = append(out, enc.WithPadding(base64.NoPadding).EncodeToString([]byte(s)))
		for k := 0; k < 3; k++ {
			buf := make([]byte, k+len(s))
			copy(buf[k:], s)
			e := enc.EncodeToString(buf)
			// Character j holds bits [6j, 6j+6); the value's bits are [8k, 8(k+len)).
			first := (8*k + 5) / 6
			last := (8*(k+len(s)))/6 - 1
			if last-first+1 >= 4 {
				out = append(out, e[first:last+1])
			}
		}
	}
	return out
}

// decodedViews returns text and what the decoders make of it, applied up to scrubRounds
// times one after another.
func decodedViews(text string) []string {
	seen := map[string]bool{text: true}
	views := []string{text}
	frontier := []string{text}
	decoders := []func(string) string{unbackslash, urlDecode(false), urlDecode(true), html.UnescapeString}
	for range scrubRounds {
		var next []string
		for _, v := range frontier {
			for _, d := range decoders {
				if len(views) >= maxViews {
					return views
				}
				if w := d(v); !seen[w] {
					seen[w] = true
					views = append(views, w)
					next = append(next, w)
				}
			}
		}
		frontier = next
	}
	return views
}

// unbackslash decodes the backslash escapes of JSON and Go strings: \" \\ \/ \' \a \b \f
// \n \r \t \v, \xHH, \uHHHH (with UTF-16 surrogate pairs), \UHHHHHHHH and octal \NNN. Any
// other backslash stays.
func unbackslash(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		c := s[i+1]
		switch c {
		case '"', '\\', '/', '\'':
			b.WriteByte(c)
			i += 2
			continue
		case 'a', 'b', 'f', 'n', 'r', 't', 'v':
			b.WriteByte(map[byte]byte{'a': 7, 'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11}[c])
			i += 2
			continue
		case 'x':
			if n, ok := hexAt(s, i+2, 2); ok {
				b.WriteByte(byte(n))
				i += 4
				continue
			}
		case 'u':
			if n, ok := hexAt(s, i+2, 4); ok {
				r := rune(n)
				i += 6
				if utf16.IsSurrogate(r) && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if m, ok := hexAt(s, i+2, 4); ok {
						if p := utf16.DecodeRune(r, rune(m)); p != utf8.RuneError {
							r = p
							i += 6
						}
					}
				}
				b.WriteRune(r)
				continue
			}
		case 'U':
			if n, ok := hexAt(s, i+2, 8); ok && n <= utf8.MaxRune {
				b.WriteRune(rune(n))
				i += 10
				continue
			}
		case '0', '1', '2', '3':
			if i+4 <= len(s) {
				if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
					b.WriteByte(byte(n))
					i += 4
					continue
				}
			}
		}
		b.WriteByte('\\')
		i++
	}
	return b.String()
}

// hexAt parses n hex digits of s at i.
func hexAt(s string, i, n int) (uint64, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+n], 16, 32)
	return v, err == nil
}

// urlDecode returns a lenient percent-decoder: %XX becomes the byte, a malformed % stays;
// with plus, '+' becomes a space (form encoding).
func urlDecode(plus bool) func(string) string {
	return func(s string) string {
		if !strings.ContainsAny(s, "%+") {
			return s
		}
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch {
			case s[i] == '%':
				if n, ok := hexAt(s, i+1, 2); ok {
					b.WriteByte(byte(n))
					i += 2
					continue
				}
			case s[i] == '+' && plus:
				b.WriteByte(' ')
				continue
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
}
