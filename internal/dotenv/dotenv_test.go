package dotenv

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// marker stands for a secret in the sources of the cases below: no problem or warning
// message may contain it.
const marker = "s3cr3t"

func entry(key, value string, line int) Entry { return Entry{Key: key, Value: value, Line: line} }
func blank(key string, line int) Entry        { return Entry{Key: key, Line: line, Blank: true} }

type parseCase struct {
	name string
	src  string
	// entries and warnings (their lines) of a file that parses.
	entries  []Entry
	warnings []int
	// problems are the lines of the problems of a file that does not parse, in order;
	// messages are texts the error must contain.
	problems []int
	messages []string
}

// parseCases covers each rule of DESIGN.md "The .env import rules" and each kind of
// problem; the shared corpus (corpus_test.go) adds real files from bug reports.
func parseCases() []parseCase {
	big := strings.Repeat("x", pluginsdk.MaxValueBytes)
	return []parseCase{
		// Comments, blank lines, encodings, line ends.
		{name: "empty file", src: ""},
		{name: "comments and blank lines", src: "# a comment\n\n   # indented\n\t#tab\n \t \n"},
		{name: "leading BOM ignored", src: "\uFEFFKEY=v\n", entries: []Entry{entry("KEY", "v", 1)}},
		{name: "BOM before a comment", src: "\uFEFF# c\nA=1", entries: []Entry{entry("A", "1", 2)}},
		{name: "BOM inside a quoted value is text", src: "A=\"\uFEFFx\"", entries: []Entry{entry("A", "\uFEFFx", 1)}},
		{name: "CRLF unquoted", src: "A=1\r\nB=two words \r\n\r\n# c\r\nC=3",
			entries: []Entry{entry("A", "1", 1), entry("B", "two words", 2), entry("C", "3", 5)}},
		{name: "CRLF inside double quotes becomes LF", src: "K=\"a\r\nb\r\n\"\r\nN=x\r\n",
			entries: []Entry{entry("K", "a\nb\n", 1), entry("N", "x", 4)}},
		{name: "CRLF inside single quotes becomes LF", src: "K='a\r\nb'\r\n",
			entries: []Entry{entry("K", "a\nb", 1)}},
		{name: "CRLF after closing quote", src: "K='a'\r\nL=\"b\"  \r\n",
			entries: []Entry{entry("K", "a", 1), entry("L", "b", 2)}},
		{name: "CR ending the file", src: "A=1\r", entries: []Entry{entry("A", "1", 1)}},
		{name: "unicode", src: "A=Grüße 🚀\nB='Köln'\n", entries: []Entry{entry("A", "Grüße 🚀", 1), entry("B", "Köln", 2)}},

		// Keys.
		{name: "spaces and tabs around =", src: "\tA \t=\t 1 \t\n  B=2\n",
			entries: []Entry{entry("A", "1", 1), entry("B", "2", 2)}},
		{name: "keys keep their case", src: "lower=1\nMixed_9=2\n_x=3\n",
			entries: []Entry{entry("lower", "1", 1), entry("Mixed_9", "2", 2), entry("_x", "3", 3)}},
		{name: "export prefix", src: "export A=1\nexport\tB=2\n  export   C = 3\n",
			entries: []Entry{entry("A", "1", 1), entry("B", "2", 2), entry("C", "3", 3)}},
		{name: "export as a key", src: "export=1\n", entries: []Entry{entry("export", "1", 1)}},
		{name: "export as a key with spaces", src: "export = 1\n", entries: []Entry{entry("export", "1", 1)}},
		{name: "keys that start with export", src: "exportA=1\nEXPORT_DIR=/x\n",
			entries: []Entry{entry("exportA", "1", 1), entry("EXPORT_DIR", "/x", 2)}},
		{name: "longest name", src: strings.Repeat("N", 128) + "=1",
			entries: []Entry{entry(strings.Repeat("N", 128), "1", 1)}},

		// Unquoted values.
		{name: "equals signs in a value", src: "URL=postgres://u:p@h/db?ssl=require&x==\n",
			entries: []Entry{entry("URL", "postgres://u:p@h/db?ssl=require&x==", 1)}},
		{name: "quotes inside an unquoted value", src: `K=it's "fine"` + "\n",
			entries: []Entry{entry("K", `it's "fine"`, 1)}},
		{name: "inline comment after a tab", src: "K=v\t# c\n", entries: []Entry{entry("K", "v", 1)}},
		{name: "hash right after =", src: "K=#not-a-comment\n", entries: []Entry{entry("K", "#not-a-comment", 1)}},
		{name: "hash inside a word", src: "K=a#b #c\n", entries: []Entry{entry("K", "a#b", 1)}},
		{name: "only a comment after =", src: "K= # c\n", entries: []Entry{blank("K", 1)}},
		{name: "backslashes literal unquoted", src: `K=C:\new\t\\x\"` + "\n", entries: []Entry{entry("K", `C:\new\t\\x\"`, 1)}},
		{name: "no interpolation", src: "A=$HOME\nB=${X:-y}\nC=\"$HOME ${X}\"\nD='$HOME'\n",
			entries: []Entry{entry("A", "$HOME", 1), entry("B", "${X:-y}", 2), entry("C", "$HOME ${X}", 3), entry("D", "$HOME", 4)}},

		// Quoted values.
		{name: "double-quoted escapes", src: `K="n\n r\r t\t q\" b\\ d\$"`,
			entries: []Entry{entry("K", "n\n r\r t\t q\" b\\ d$", 1)}},
		{name: "unknown escapes keep their backslash", src: `K="\d\a\u00e9\x41\'\` + "`" + `"`,
			entries: []Entry{entry("K", `\d\a\u00e9\x41\'\`+"`", 1)}},
		{name: "escaped backslash before the closing quote", src: `K="a\\"`, entries: []Entry{entry("K", `a\`, 1)}},
		{name: "backslash before a line end is kept", src: "K=\"a\\\nb\"\n", entries: []Entry{entry("K", "a\\\nb", 1)}},
		{name: "single quotes are literal", src: `K='a\nb\$c\'`, entries: []Entry{entry("K", `a\nb\$c\`, 1)}},
		{name: "backticks are literal", src: "K=`a\\n$b \"c\" 'd'`", entries: []Entry{entry("K", `a\n$b "c" 'd'`, 1)}},
		{name: "backticks span lines", src: "K=`a\nb`\nL=1", entries: []Entry{entry("K", "a\nb", 1), entry("L", "1", 3)}},
		{name: "other quotes inside quotes", src: `A="it's"` + "\nB='say \"hi\"'\n",
			entries: []Entry{entry("A", "it's", 1), entry("B", `say "hi"`, 2)}},
		{name: "hash inside quotes", src: `K="a #b" # c`, entries: []Entry{entry("K", "a #b", 1)}},
		{name: "comment right after the closing quote", src: `K="v"#c`, entries: []Entry{entry("K", "v", 1)}},
		{name: "spaces inside quotes kept", src: "K='  v \t'  \n", entries: []Entry{entry("K", "  v \t", 1)}},
		{name: "multi-line value keeps line numbers", src: "A=\"1\n2\n3\"\nB=4\n\n'x'=\n",
			problems: []int{6}},
		{name: "multi-line JSON", src: "J='{\n  \"a\": 1\n}'\nN=2\n",
			entries: []Entry{entry("J", "{\n  \"a\": 1\n}", 1), entry("N", "2", 4)}},
		{name: "quoted value without final newline", src: `K="v"`, entries: []Entry{entry("K", "v", 1)}},

		// Blank values and duplicates.
		{name: "blank values", src: "A=\nB=\"\"\nC=''\nD=``\nE=   \nF=\"\" # c\n",
			entries: []Entry{blank("A", 1), blank("B", 2), blank("C", 3), blank("D", 4), blank("E", 5), blank("F", 6)}},
		{name: "last definition wins", src: "A=1\nA=2\nB=x\nA=3\n",
			entries: []Entry{entry("B", "x", 3), entry("A", "3", 4)}, warnings: []int{2, 4}},
		{name: "a blank last definition wins", src: "A=1\nA=\n", entries: []Entry{blank("A", 2)}, warnings: []int{2}},
		{name: "names are case-sensitive", src: "a=1\nA=2\n", entries: []Entry{entry("a", "1", 1), entry("A", "2", 2)}},

		// Size.
		{name: "value of exactly 64 KiB", src: "BIG=" + big, entries: []Entry{entry("BIG", big, 1)}},
		{name: "value over 64 KiB", src: "A=1\nBIG=" + big + "y\n", problems: []int{2},
			messages: []string{"BIG is 65537 bytes", "at most 65536 bytes"}},
		{name: "quoted value over 64 KiB", src: "BIG=\"" + big[:pluginsdk.MaxValueBytes-2] + "\n\\n\\t\"\n", problems: []int{1},
			messages: []string{"BIG is 65537 bytes"}},
		{name: "escapes shrink a value under 64 KiB", src: "K=\"" + strings.Repeat(`\\`, pluginsdk.MaxValueBytes) + "\"",
			entries: []Entry{entry("K", strings.Repeat(`\`, pluginsdk.MaxValueBytes), 1)}},

		// Problems with keys.
		{name: "empty key", src: "=" + marker + "\n", problems: []int{1}, messages: []string{`starts with "="`}},
		{name: "empty key after export", src: "export =" + marker + "\n", entries: []Entry{entry("export", marker, 1)}},
		{name: "dotted key", src: "spring.datasource.url=jdbc:" + marker, problems: []int{1},
			messages: []string{`"spring.datasource.url"`, "did you mean SPRING_DATASOURCE_URL?", pluginsdk.NameRule}},
		{name: "dashed key", src: "my-key=" + marker, problems: []int{1}, messages: []string{"did you mean MY_KEY?"}},
		{name: "key with a space", src: "MY KEY=" + marker, problems: []int{1}, messages: []string{"did you mean MY_KEY?"}},
		{name: "key with a leading digit", src: "1KEY=" + marker, problems: []int{1}, messages: []string{"did you mean _1KEY?"}},
		{name: "key with a non-ASCII letter", src: "GRÜSSE=" + marker, problems: []int{1}, messages: []string{`invalid name "GRÜSSE"`}},
		{name: "quoted key", src: `"KEY"=` + marker, problems: []int{1}, messages: []string{"did you mean KEY?"}},
		{name: "BOM after the first line", src: "A=1\n\uFEFFB=2\n", problems: []int{2}, messages: []string{`key "B" starts with a byte order mark`}},
		{name: "key too long", src: strings.Repeat("A", 129) + "=" + marker, problems: []int{1},
			messages: []string{"129 bytes", "not shown"}},
		{name: "key that may be part of a value", src: "ab+cd/" + marker + "=x\n", problems: []int{1},
			messages: []string{"not shown"}},
		{name: "invalid key still reads its multi-line value", src: "my-key=\"line1\nline2 = no\"\nOK=1\n",
			problems: []int{1}},

		// Problems with lines and quotes.
		{name: "line without =", src: "A=1\n" + marker + "\n", problems: []int{2}, messages: []string{`no "="`}},
		{name: "export without =", src: "export A\n", problems: []int{1}},
		{name: "YAML line", src: "A: " + marker + "\n", problems: []int{1}, messages: []string{"not KEY: value"}},
		{name: "shell quote concatenation", src: `A='I'"'"'m ` + marker + `'`, problems: []int{1},
			messages: []string{"joining quoted pieces"}},
		{name: "text after a double quote", src: `A="` + marker + `" x` + "\nB=1\n", problems: []int{1},
			messages: []string{"text follows the closing double quote of the value of A", "move it inside the quotes"}},
		{name: "text after a backtick", src: "A=`" + marker + "`x", problems: []int{1}},
		{name: "unterminated double quote", src: "A=1\nB=\"" + marker + "\nC=2\n", problems: []int{2},
			messages: []string{"double quote that opens the value of B on this line is never closed"}},
		{name: "unterminated single quote", src: "A='" + marker, problems: []int{1}, messages: []string{"single quote"}},
		{name: "unterminated backtick", src: "A=`" + marker, problems: []int{1}, messages: []string{"backtick quote"}},
		{name: "escaped quote does not close", src: `A="` + marker + `\"`, problems: []int{1}, messages: []string{"never closed"}},
		{name: "quote closed on a later line with text after it", src: "A=1\nB=\"x\nC=\"" + marker + "\"\nD=1\n",
			problems: []int{2}, messages: []string{"closes only on line 3"}},

		// Encoding problems.
		{name: "NUL byte", src: "A=1\nB=s3\x00cr3t\n", problems: []int{2}, messages: []string{"NUL byte at column 5"}},
		{name: "invalid UTF-8", src: "A=caf\xe9\n", problems: []int{1}, messages: []string{"invalid UTF-8 at column 6"}},
		{name: "invalid UTF-8 in a comment", src: "# caf\xe9\nA=1", problems: []int{1}},
		{name: "invalid UTF-8 in a key", src: "K\xffEY=1", problems: []int{1}, messages: []string{"invalid UTF-8 at column 2"}},
		{name: "invalid UTF-8 inside a multi-line value", src: "A='x\ny\xc3'\n", problems: []int{2}},
		{name: "bare CR", src: "A=1\rB=2\n", problems: []int{1}, messages: []string{"carriage return (CR) at column 4"}},
		{name: "UTF-16 with BOM", src: "\xff\xfeA\x00=\x001\x00", problems: []int{1}, messages: []string{"UTF-16"}},
		{name: "UTF-16 without BOM", src: "A\x00=\x001\x00\n\x00B\x00=\x002\x00\n\x00", problems: []int{1, 2, 3}},

		// Every problem, sorted by line.
		{name: "every problem of a file", src: "bad-key=1\nOK=1\nno-equals\nX=\"a\" b\nY='open\nZ=1\n",
			problems: []int{1, 3, 4, 5}},
		{name: "two problems on one line", src: "bad-key='x' y\n", problems: []int{1, 1}},
		{name: "a line with an encoding problem gets no other", src: "bad\x00-key=1\nbad-key=2\n", problems: []int{1, 2}},
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.src))
			checkNoMarker(t, f, err)
			if tc.problems != nil {
				checkProblems(t, err, tc.problems, tc.messages)
				return
			}
			if err != nil {
				t.Fatalf("Parse failed:\n%v", err)
			}
			checkEntries(t, f.Entries, tc.entries)
			var lines []int
			for _, w := range f.Warnings {
				lines = append(lines, w.Line)
			}
			if !slices.Equal(lines, tc.warnings) {
				t.Errorf("warnings on lines %v, want %v: %v", lines, tc.warnings, f.Warnings)
			}
		})
	}
}

// checkProblems checks that err is a *ParseError with problems on exactly the lines
// want and that its text contains every one of messages.
func checkProblems(t *testing.T, err error, want []int, messages []string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v, want a *ParseError with problems on lines %v", err, want)
	}
	var lines []int
	for _, p := range pe.Problems {
		lines = append(lines, p.Line)
	}
	if !slices.Equal(lines, want) {
		t.Errorf("problems on lines %v, want %v:\n%v", lines, want, err)
	}
	for _, m := range messages {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error does not contain %q:\n%v", m, err)
		}
	}
	if !errors.Is(err, pluginsdk.ErrInvalidArgument) {
		t.Errorf("errors.Is(err, ErrInvalidArgument) = false")
	}
}

// checkEntries compares entries by key, line, blankness and value, showing only the
// lengths of values that differ.
func checkEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d entries %v, want %d %v", len(got), got, len(want), want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Key != w.Key || g.Line != w.Line || g.Blank != w.Blank {
			t.Errorf("entry %d = %v (blank %v), want %v (blank %v)", i, g, g.Blank, w, w.Blank)
		}
		if d := valueDiff(g.Value, w.Value); d != "" {
			t.Errorf("entry %d (%s): value %s", i, w.Key, d)
		}
	}
}

// valueDiff describes how got differs from want without showing either: their lengths
// and the first byte offset where they differ. It returns "" when they are equal.
func valueDiff(got, want string) string {
	if got == want {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("is %d bytes, want %d bytes, first difference at byte %d", len(got), len(want), i)
}

// checkNoMarker fails when a problem or warning message repeats the marker secret.
func checkNoMarker(t *testing.T, f *File, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), marker) {
		t.Errorf("an error message contains a value")
	}
	if f != nil {
		for _, w := range f.Warnings {
			if strings.Contains(w.Message, marker) {
				t.Errorf("a warning on line %d contains a value", w.Line)
			}
		}
	}
}

func TestParseErrorText(t *testing.T) {
	_, err := Parse([]byte("A=1\nbad-key=2\nnothing\n"))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v, want a *ParseError", err)
	}
	wantLines := []string{
		`line 2: invalid name "bad-key": ` + pluginsdk.NameRule + "; did you mean BAD_KEY?",
		`line 3: the line has no "=": `,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != 2 || got[0] != wantLines[0] || !strings.HasPrefix(got[1], wantLines[1]) {
		t.Errorf("Error() =\n%s\nwant lines starting\n%s", err, strings.Join(wantLines, "\n"))
	}
	formatted := strings.Split(pe.Format("app.env"), "\n")
	if len(formatted) != 2 || !strings.HasPrefix(formatted[0], "app.env:2: invalid name") ||
		!strings.HasPrefix(formatted[1], "app.env:3: the line has no") {
		t.Errorf("Format(app.env) =\n%s", pe.Format("app.env"))
	}
}

func TestEntryPrintsNoValue(t *testing.T) {
	e := entry("TOKEN", marker, 3)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := fmt.Sprintf(verb, e); strings.Contains(s, marker) || !strings.Contains(s, "TOKEN") {
			t.Errorf("Sprintf(%s, entry) = %q, want the key without the value", verb, s)
		}
	}
	if s := fmt.Sprintf("%v", []Entry{e}); strings.Contains(s, marker) {
		t.Errorf("a slice of entries prints a value: %q", s)
	}
}

func TestBlankKeys(t *testing.T) {
	f, err := Parse([]byte("A=\nB=1\nC=''\nA=\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.BlankKeys(); !slices.Equal(got, []string{"C", "A"}) {
		t.Errorf("BlankKeys() = %q, want [C A]", got)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"", `""`},
		{"plain_value-1.2,3/4:5@6%7+8=9^~", "plain_value-1.2,3/4:5@6%7+8=9^~"},
		{"two words", "'two words'"},
		{" padded ", "' padded '"},
		{"#hash", "'#hash'"},
		{`a"b`, `'a"b'`},
		{`back\slash`, `'back\slash'`},
		{"$HOME", "'$HOME'"},
		{"tab\there", "'tab\there'"},
		{"`cmd`", "'`cmd`'"},
		{"it's", `"it's"`},
		{"line1\nline2", `"line1\nline2"`},
		{"cr\r", `"cr\r"`},
		{"it's \"$5\" \\n\n", `"it's \"\$5\" \\n\n"`},
	}
	for _, tc := range tests {
		got := Quote(tc.value)
		if got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.value, got, tc.want)
		}
		f, err := Parse([]byte("K=" + got))
		if err != nil {
			t.Errorf("K=Quote(%q) does not parse: %v", tc.value, err)
			continue
		}
		if len(f.Entries) != 1 || f.Entries[0].Value != tc.value {
			t.Errorf("K=Quote(%q) parses to %q", tc.value, f.Entries)
		}
	}
}

// TestExample checks that the example of HelpText reads as its comments say.
func TestExample(t *testing.T) {
	if !strings.Contains(HelpText, Example) {
		t.Fatal("HelpText does not contain Example")
	}
	f, err := Parse([]byte(Example))
	if err != nil {
		t.Fatalf("Example does not parse:\n%v", err)
	}
	checkEntries(t, f.Entries, []Entry{
		entry("APP_ENV", "production", 2),
		entry("REGION", "eu-central-1", 3),
		entry("DB_PASSWORD", "pa55#w0rd$1", 4),
		entry("API_TOKEN", `tok\n$HOME`, 5),
		entry("GREETING", "Hello,\n\"world\"", 6),
		entry("TLS_KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----", 7),
		blank("UNUSED", 10),
	})
}

// tenThousandLines returns a .env file of 10,000 lines mixing every form: comments,
// unquoted values with comments, quoted values with escapes, and 3-line quoted values.
func tenThousandLines() []byte {
	var b strings.Builder
	for i, lines := 0, 0; lines < 10000; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "# section %d\n", i)
		case 1:
			fmt.Fprintf(&b, "export KEY_%d = value-%d-with-some-length # comment\n", i, i)
		case 2:
			fmt.Fprintf(&b, "KEY_%d=\"escaped \\\"%d\\\" \\n and \\$dollar\"\n", i, i)
		case 3:
			fmt.Fprintf(&b, "KEY_%d='-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END KEY-----'\n", i)
			lines += 2
		case 4:
			fmt.Fprintf(&b, "KEY_%d=https://example.test/path#frag\r\n", i)
		}
		lines++
	}
	return []byte(b.String())
}

func BenchmarkParse10k(b *testing.B) {
	src := tenThousandLines()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
