// Package dotenv parses the .env dialect of "ast secrets import": bytes in, the file's
// entries in order with their line numbers out, or every problem of the file at once, each
// with its line.
//
// The rules are those of DESIGN.md, "The .env import rules"; HelpText states them for
// users. Names and value limits come from pluginsdk (ValidateName, SuggestName,
// MaxValueBytes), so an entry Parse accepts is one every backend accepts. The package is
// pure: no I/O, no globals, nothing kept between calls.
//
// No message this package produces contains a value: problems and warnings name lines,
// keys, byte counts and columns only, because the line that went wrong may hold a secret.
package dotenv

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ast-cli/ast/pluginsdk"
)

// File is a parsed .env file.
type File struct {
	// Entries holds one Entry per key, in file order after last-definition-wins: a key
	// defined twice appears once, at the position of its last definition.
	Entries []Entry
	// Warnings are remarks that do not stop an import, sorted by line: one for each
	// definition of a key that a later one replaces, on the later line, naming both.
	Warnings []Warning
}

// BlankKeys returns the keys of the blank entries, in file order: the ones an import
// skips and reports.
func (f *File) BlankKeys() []string {
	var keys []string
	for _, e := range f.Entries {
		if e.Blank {
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// Entry is one KEY=value definition of a .env file.
//
// Entry prints with every fmt verb as its key and line with the value redacted, so a stray
// %v in a log line or a test failure cannot leak it; read the Value field where the text
// must go.
type Entry struct {
	// Key is a valid entry name (pluginsdk.ValidateName), as written (case-sensitive).
	Key string
	// Value is the value's text after quotes, escapes and line ends are resolved: valid
	// UTF-8 without NUL, at most pluginsdk.MaxValueBytes bytes, "" when Blank.
	Value string
	// Line is the 1-based line where the key is defined (where a multi-line value starts).
	Line int
	// Blank reports an empty value: nothing after "=" but blanks or a comment, or empty
	// quotes of any kind.
	Blank bool
}

func (e Entry) String() string {
	if e.Blank {
		return fmt.Sprintf("%s=<blank> (line %d)", e.Key, e.Line)
	}
	return fmt.Sprintf("%s=[REDACTED %d bytes] (line %d)", e.Key, len(e.Value), e.Line)
}

func (e Entry) GoString() string { return e.String() }

func (e Entry) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.String())) }

// Warning is a remark about a file that parsed: Line is 1-based, Message never contains a
// value.
type Warning struct {
	Line    int
	Message string
}

// Problem is one thing wrong in a file. Line is 1-based; Message says what is wrong and
// how to write it instead, and never contains a value.
type Problem struct {
	Line    int
	Message string
}

// ParseError is the error Parse returns for a malformed file: every problem of the file,
// sorted by line (problems of the same line in the order they were found).
//
// errors.Is(err, pluginsdk.ErrInvalidArgument) is true for a *ParseError.
type ParseError struct {
	Problems []Problem
}

// Error returns the problems as "line N: message" lines joined by newlines.
func (e *ParseError) Error() string {
	return e.format("line ")
}

// Format returns the problems as "FILENAME:N: message" lines joined by newlines (the form
// compilers and editors understand), for a CLI that read the file from filename.
func (e *ParseError) Format(filename string) string {
	return e.format(filename + ":")
}

func (e *ParseError) format(prefix string) string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s%d: %s", prefix, p.Line, p.Message)
	}
	return b.String()
}

// Unwrap makes a malformed file an invalid argument, as every other bad input of ast is.
func (e *ParseError) Unwrap() error { return pluginsdk.ErrInvalidArgument }

// Parse parses a whole .env file by the rules of DESIGN.md "The .env import rules" (see
// HelpText) and returns its entries in file order and its warnings.
//
// The error is nil or a *ParseError listing every problem of the file at once, sorted by
// line; then the *File is nil, since a malformed file imports nothing. Problems are:
//   - a line that is neither blank, a comment, nor KEY=value (no "=");
//   - an empty key, or one that is not a valid name (pluginsdk.ValidateName), with a
//     suggestion from pluginsdk.SuggestName;
//   - text after a closing quote other than spaces and a # comment;
//   - a quote that is never closed, reported at the line where it opened;
//   - a value over pluginsdk.MaxValueBytes bytes;
//   - a NUL byte, invalid UTF-8, a carriage return that is not part of a CRLF line end,
//     or a UTF-16 byte order mark.
//
// Parse reads src once, in time linear in its length; it sets no limit of its own on the
// size of src.
func Parse(src []byte) (*File, error) {
	if bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF}) {
		return nil, &ParseError{Problems: []Problem{{Line: 1,
			Message: "the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"}}}
	}
	p := &parser{src: bytes.TrimPrefix(src, []byte("\uFEFF")), line: 1}
	encodingProblems := p.checkEncoding()
	for p.pos < len(p.src) {
		p.definition()
	}
	if len(encodingProblems) > 0 || len(p.problems) > 0 {
		return nil, &ParseError{Problems: mergeProblems(encodingProblems, p.problems)}
	}
	return p.file(), nil
}

// parser is the state of one Parse call: a cursor over the file and what was found so far.
type parser struct {
	src      []byte
	pos      int // next byte to read
	line     int // 1-based line of src[pos]
	buf      []byte
	entries  []Entry
	problems []Problem
}

func (p *parser) problem(line int, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	p.problems = append(p.problems, Problem{Line: line, Message: msg})
}

// definition reads one line, or one definition whose quoted value spans several lines,
// and leaves the cursor at the start of the next line.
func (p *parser) definition() {
	line := p.line
	p.skipBlanks()
	if p.atLineEnd() || p.src[p.pos] == '#' {
		p.nextLine()
		return
	}
	text := p.src[p.pos:p.lineContentEnd()]
	eq := bytes.IndexByte(text, '=')
	if eq < 0 {
		// The text is not shown: it may be a line of a value that lost its quotes.
		p.problem(line, `the line has no "=": write KEY=value (not KEY: value or a bare KEY), `+
			`or start a comment with "#"; if the line continues a value from a line above, `+
			`put that whole value in quotes`)
		p.nextLine()
		return
	}
	key := string(bytes.TrimRight(text[:eq], " \t"))
	// "export" is dropped only when whitespace and then a key follow it, so that "export=x",
	// "export = x" and EXPORT_DIR=x keep their keys.
	if rest, ok := strings.CutPrefix(key, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		key = strings.TrimLeft(rest, " \t")
	}
	keyOK := p.checkKey(line, key)
	p.pos += eq + 1
	p.skipBlanks()

	what := "the value on this line"
	if displayable(key) {
		what = "the value of " + key
	}
	value, blank, ok := p.value(line, what)
	if !ok {
		return
	}
	if len(value) > pluginsdk.MaxValueBytes {
		p.problem(line, "%s is %d bytes: a value is at most %d bytes (64 KiB)", what, len(value), pluginsdk.MaxValueBytes)
		return
	}
	if !keyOK {
		return
	}
	p.entries = append(p.entries, Entry{Key: key, Value: value, Line: line, Blank: blank})
}

// checkKey reports an empty or invalid key on line and says whether the key is valid.
func (p *parser) checkKey(line int, key string) bool {
	err := pluginsdk.ValidateName(key)
	switch {
	case err == nil:
		return true
	case key == "":
		p.problem(line, `the line starts with "=": write KEY=value, where %s`, pluginsdk.NameRule)
	case strings.HasPrefix(key, "\uFEFF") && displayable(key[len("\uFEFF"):]):
		// Only a leading BOM is ignored; one further down is left over from joined files.
		p.problem(line, "the key %q starts with a byte order mark (U+FEFF), left over from joining files: "+
			"delete it (%s)", key[len("\uFEFF"):], pluginsdk.NameRule)
	case !displayable(key):
		// A "key" made of anything but name-like characters may be a piece of a value
		// (a password line that lost its quotes), so its text is not repeated.
		p.problem(line, "the key (%d bytes, not shown as it may be part of a value) is not a valid name: %s",
			len(key), pluginsdk.NameRule)
	default:
		msg := err.Error()
		if s := pluginsdk.SuggestName(key); s != "" && s != key {
			msg += "; did you mean " + s + "?"
		}
		p.problem(line, "%s", msg)
	}
	return false
}

// displayable reports whether a key may be repeated in a message: at most
// pluginsdk.MaxNameBytes bytes of the characters names and their usual misspellings are
// made of (spring.datasource.url, my-key, "QUOTED", MY KEY, ÜBER). Anything else, such as
// the + and / of base64, may be a fragment of a secret that lost its quotes.
func displayable(key string) bool {
	if len(key) > pluginsdk.MaxNameBytes || !utf8.ValidString(key) {
		return false
	}
	for _, r := range key {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_.- \t\"'", r) {
			return false
		}
	}
	return true
}

// value reads the value that starts at the cursor (after "=" and blanks) and leaves the
// cursor at the start of the line after it. what names the value in messages ("the
// value of KEY"). ok is false when a problem was reported.
func (p *parser) value(line int, what string) (value string, blank, ok bool) {
	if p.atLineEnd() {
		p.nextLine()
		return "", true, true
	}
	switch q := p.src[p.pos]; q {
	case '"', '\'', '`':
		return p.quoted(line, what, q)
	}
	start, end := p.pos, p.lineContentEnd()
	// An inline comment starts at a "#" after a space or tab; the byte before start is
	// "=" or a blank, so i-1 is always inside src.
	for i := start; i < end; i++ {
		if p.src[i] == '#' && (p.src[i-1] == ' ' || p.src[i-1] == '\t') {
			end = i
			break
		}
	}
	v := bytes.TrimRight(p.src[start:end], " \t")
	p.nextLine()
	return string(v), len(v) == 0, true
}

// quoteName returns the word messages use for quote character q.
func quoteName(q byte) string {
	switch q {
	case '"':
		return "double"
	case '\'':
		return "single"
	}
	return "backtick"
}

// quoted reads a value in quote q that opens at the cursor on line. Single and backtick
// quotes are literal; double quotes resolve the escapes \n \r \t \" \\ \$ and keep any
// other backslash. The value may span lines; a CRLF inside it becomes LF.
func (p *parser) quoted(line int, what string, q byte) (value string, blank, ok bool) {
	src := p.src
	p.pos++
	p.buf = p.buf[:0]
	for closed := false; !closed; {
		if p.pos >= len(src) {
			p.problem(line, "the %s quote that opens %s on this line is never closed: add the closing %c "+
				"(a quoted value may span lines, so the rest of the file was read as this value)",
				quoteName(q), what, q)
			return "", false, false
		}
		switch c := src[p.pos]; {
		case c == q:
			closed = true
			p.pos++
		case c == '\\' && q == '"' && p.pos+1 < len(src) && escape(src[p.pos+1]) != 0:
			p.buf = append(p.buf, escape(src[p.pos+1]))
			p.pos += 2
		case c == '\r' && p.pos+1 < len(src) && src[p.pos+1] == '\n':
			p.buf = append(p.buf, '\n')
			p.pos += 2
			p.line++
		case c == '\n':
			p.buf = append(p.buf, '\n')
			p.pos++
			p.line++
		default:
			p.buf = append(p.buf, c)
			p.pos++
		}
	}

	closeLine := p.line
	p.skipBlanks()
	if p.atLineEnd() || p.src[p.pos] == '#' {
		p.nextLine()
		return string(p.buf), len(p.buf) == 0, true
	}
	next := p.src[p.pos]
	p.nextLine()
	if closeLine != line {
		// Most often the quote opened here was never closed and the parse ran on to the
		// next quote character: naming the opening line points at the real mistake.
		p.problem(line, "the %s quote that opens %s on this line closes only on line %d, where text follows it: "+
			"if the value ends on this line, add its closing %c here; if it spans lines, "+
			`only spaces and a "#" comment may follow its closing quote`,
			quoteName(q), what, closeLine, q)
		return "", false, false
	}
	hint := "if the text belongs to the value, move it inside the quotes"
	if next == '"' || next == '\'' || next == '`' {
		hint = `joining quoted pieces ('a'"b") is shell syntax that .env does not support: ` +
			`put the whole value in one pair of quotes, e.g. double quotes around a value with a ' in it, ` +
			`and \" for a " inside double quotes`
	}
	p.problem(line, `text follows the closing %s quote of %s: only spaces and a "#" comment may follow it; %s`,
		quoteName(q), what, hint)
	return "", false, false
}

// escape returns the byte a double-quoted `\c` stands for, or 0 when `\c` is no escape
// and the backslash stays.
func escape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case '"', '\\', '$':
		return c
	}
	return 0
}

func (p *parser) skipBlanks() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// atLineEnd reports whether the cursor is at the end of a line: LF, CRLF, a CR that ends
// the file, or the end of the file.
func (p *parser) atLineEnd() bool {
	if p.pos >= len(p.src) {
		return true
	}
	switch p.src[p.pos] {
	case '\n':
		return true
	case '\r':
		return p.pos+1 == len(p.src) || p.src[p.pos+1] == '\n'
	}
	return false
}

// lineContentEnd returns the end of the cursor's line without its line end (LF, CRLF, or
// a CR that ends the file).
func (p *parser) lineContentEnd() int {
	end := len(p.src)
	if i := bytes.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		end = p.pos + i
	}
	if end > p.pos && p.src[end-1] == '\r' {
		end--
	}
	return end
}

// nextLine moves the cursor to the start of the next line.
func (p *parser) nextLine() {
	i := bytes.IndexByte(p.src[p.pos:], '\n')
	if i < 0 {
		p.pos = len(p.src)
		return
	}
	p.pos += i + 1
	p.line++
}

// checkEncoding reports, for each line, its first NUL byte, its first invalid UTF-8 and
// its first carriage return that is not part of a line end. Columns are 1-based byte
// offsets, which say where without showing what.
func (p *parser) checkEncoding() []Problem {
	var problems []Problem
	src := p.src
	for line := 1; len(src) > 0; line++ {
		text := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			text, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		text = bytes.TrimSuffix(text, []byte{'\r'})
		if i := bytes.IndexByte(text, 0); i >= 0 {
			problems = append(problems, Problem{Line: line, Message: fmt.Sprintf(
				"NUL byte at column %d: a .env file is UTF-8 text without NUL bytes "+
					"(a file saved as UTF-16 has them everywhere: save it as UTF-8)", i+1)})
		}
		if !utf8.Valid(text) {
			problems = append(problems, Problem{Line: line, Message: fmt.Sprintf(
				"invalid UTF-8 at column %d: save the file as UTF-8 (it may be in Latin-1 or another legacy encoding)",
				invalidUTF8At(text)+1)})
		}
		if i := bytes.IndexByte(text, '\r'); i >= 0 {
			problems = append(problems, Problem{Line: line, Message: fmt.Sprintf(
				"carriage return (CR) at column %d that does not end a line: lines end with LF or CRLF "+
					`(a file with old Mac line ends must be converted); inside double quotes write a CR as \r`, i+1)})
		}
	}
	return problems
}

// invalidUTF8At returns the offset of the first byte of b that is not valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// mergeProblems sorts encoding and structural problems by line. A line with an encoding
// problem gets no structural ones: a UTF-16 or binary file would otherwise report every
// line twice, and the encoding is what to fix first.
func mergeProblems(encoding, structural []Problem) []Problem {
	bad := make(map[int]bool, len(encoding))
	for _, e := range encoding {
		bad[e.Line] = true
	}
	all := slices.Clone(encoding)
	for _, s := range structural {
		if !bad[s.Line] {
			all = append(all, s)
		}
	}
	slices.SortStableFunc(all, func(a, b Problem) int { return a.Line - b.Line })
	return all
}

// file applies last-definition-wins to the parsed entries: each key is kept at the
// position of its last definition, and every earlier definition gets a warning on the
// line that replaces it.
func (p *parser) file() *File {
	last := make(map[string]int, len(p.entries))
	f := &File{}
	for i, e := range p.entries {
		if j, ok := last[e.Key]; ok {
			f.Warnings = append(f.Warnings, Warning{Line: e.Line, Message: fmt.Sprintf(
				"%s is defined on line %d and again on line %d: the last definition (line %d) is used",
				e.Key, p.entries[j].Line, e.Line, e.Line)})
		}
		last[e.Key] = i
	}
	f.Entries = make([]Entry, 0, len(last))
	for i, e := range p.entries {
		if last[e.Key] == i {
			f.Entries = append(f.Entries, e)
		}
	}
	return f
}
