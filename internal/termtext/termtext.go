// Package termtext makes text from outside ast safe to print on a terminal or in a
// tab-separated line: values, names and error text from servers and plugins, blueprint
// fields, paths, argv, account settings.
//
// A character a terminal would act on instead of showing is replaced by an escape that
// shows what it was:
//
//   - C0 controls (U+0000–U+001F) and DEL (U+007F) as \xNN, with \t, \n and \r for the
//     three common ones; ESC is \x1b, so an OSC 52 clipboard write or a cursor move
//     arrives as inert text;
//   - C1 controls (U+0080–U+009F) as \u0085 and so on;
//   - the bidirectional embedding, override, isolate and mark characters (U+061C,
//     U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which reorder what a reader sees,
//     and the line and paragraph separators (U+2028, U+2029), as \u202e and so on;
//   - a byte that is not part of valid UTF-8 as \xNN (an 8-bit terminal reads 0x9b as CSI).
//
// Everything else, a backslash included, is kept as it is: the escaped form is for
// reading, not for parsing back (the exact form of a value is `--output json`, `secrets
// get` to a pipe, or the backend itself). The functions are pure and never fail; a string
// that needs no escape is returned unchanged without copying.
package termtext

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Line returns s for one line or one tab-separated field: every character above is
// escaped, tab and newline included, so s cannot start a new line or a new column.
// Use it for names, paths, argv words, settings, values and table cells.
func Line(s string) string { return escape(s, false) }

// Text returns s for a message that may span lines (an error, a warning): as Line, but a
// newline and a tab are kept, since the message's own layout uses them. A carriage
// return, which would let text overwrite the start of its line, is still escaped.
func Text(s string) string { return escape(s, true) }

// Unsafe reports whether Line would change s.
func Unsafe(s string) bool { return needsEscape(s, false) }

func escape(s string, multiline bool) string {
	if !needsEscape(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if keep(c, multiline) {
				b.WriteByte(c)
			} else {
				writeByteEscape(&b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeByteEscape(&b, c)
		case dangerous(r):
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)))
			b.WriteString(h)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsEscape is the fast path: most text is printable ASCII and is returned as is.
func needsEscape(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !keep(c, multiline) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || dangerous(r) {
			return true
		}
		i += size
	}
	return false
}

// keep says whether an ASCII byte is printed as itself.
func keep(c byte, multiline bool) bool {
	if c >= 0x20 && c != 0x7f {
		return true
	}
	return multiline && (c == '\n' || c == '\t')
}

// dangerous says whether a non-ASCII rune is escaped: C1 controls, bidi controls, line
// and paragraph separators.
func dangerous(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

func writeByteEscape(b *strings.Builder, c byte) {
	switch c {
	case '\t':
		b.WriteString(`\t`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	default:
		b.WriteString(`\x`)
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
}

// Controls returns one of each character class Line escapes, for tests elsewhere that
// feed them through a command: every C0 control, DEL, the C1 controls, the bidi and
// separator characters. An invalid UTF-8 byte (0x9b, 0xff) is not a rune and is not in
// the list; callers that can carry one add it themselves.
func Controls() []rune {
	var rs []rune
	for r := rune(0); r < 0x20; r++ {
		rs = append(rs, r)
	}
	rs = append(rs, 0x7f)
	for r := rune(0x80); r <= 0x9f; r++ {
		rs = append(rs, r)
	}
	rs = append(rs, 0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
		0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029)
	return rs
}

// Writer passes everything written to it through Text before writing it to W: for a
// stream of log lines from outside (a plugin's hclog output). Each Write is escaped on its
// own, so a writer that splits a UTF-8 character across two writes gets it escaped as
// bytes; line-based loggers write whole lines.
type Writer struct{ W io.Writer }

// Write writes Text(p) to w.W and reports len(p) on success.
func (w Writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.W, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// JSON returns the encoded JSON document b with every character Line would escape written
// as a JSON \uXXXX escape: the same JSON value, byte for byte after decoding, but with no
// character a terminal acts on (encoding/json escapes C0 controls and U+2028/U+2029
// itself, not DEL, C1 or bidi controls). Such characters can only occur inside JSON
// strings, where the escape is valid. b must be valid UTF-8 (encoding/json's output is).
func JSON(b []byte) []byte {
	if !needsEscape(string(b), true) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= utf8.RuneSelf && dangerous(r)) {
			out = append(out, `\u`...)
			out = append(out, hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
