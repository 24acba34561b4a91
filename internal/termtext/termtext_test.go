package termtext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLineAndText(t *testing.T) {
	cases := []struct {
		name, in, line, text string
	}{
		{"empty", "", "", ""},
		{"ascii", "us-east-1 a=b c\\d", "us-east-1 a=b c\\d", "us-east-1 a=b c\\d"},
		{"utf8 kept", "héllo — 日本 🙂", "héllo — 日本 🙂", "héllo — 日本 🙂"},
		{"tab", "a\tb", `a\tb`, "a\tb"},
		{"newline", "a\nb", `a\nb`, "a\nb"},
		{"carriage return", "real\rFAKE", `real\rFAKE`, `real\rFAKE`},
		{"osc 52", "x\x1b]52;c;ZWNobw==\a", `x\x1b]52;c;ZWNobw==\x07`, `x\x1b]52;c;ZWNobw==\x07`},
		{"csi clear", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`, `\x1b[2J\x1b[H`},
		{"nul", "a\x00b", `a\x00b`, `a\x00b`},
		{"backspace", "ab\bc", `ab\x08c`, `ab\x08c`},
		{"del", "a\x7fb", `a\x7fb`, `a\x7fb`},
		{"c1 csi rune", "a\u009b2Jb", `a\u009b2Jb`, `a\u009b2Jb`},
		{"c1 nel", "a\u0085b", `a\u0085b`, `a\u0085b`},
		{"invalid byte 9b", "a\x9b2J", `a\x9b2J`, `a\x9b2J`},
		{"invalid byte ff", "\xff", `\xff`, `\xff`},
		{"truncated utf8", "a\xe2\x80", `a\xe2\x80`, `a\xe2\x80`},
		{"rlo", "evil\u202egnp.exe", `evil\u202egnp.exe`, `evil\u202egnp.exe`},
		{"lre pdf", "\u202aa\u202c", `\u202aa\u202c`, `\u202aa\u202c`},
		{"isolates", "\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`, `\u2066\u2067\u2068\u2069`},
		{"marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`, `\u200e\u200f\u061c`},
		{"separators", "a\u2028b\u2029", `a\u2028b\u2029`, `a\u2028b\u2029`},
		{"zero width joiner kept", "a\u200db", "a\u200db", "a\u200db"},
		{"issue 13 value",
			"x\x1b]52;c;ZWNobyBwd25lZA==\a\x1b[2J\x1b[H\rFAKE\tsecret\t1\t(hidden)",
			`x\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b[H\rFAKE\tsecret\t1\t(hidden)`,
			"x\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\x1b[H\\rFAKE\tsecret\t1\t(hidden)"},
	}
	for _, c := range cases {
		if got := Line(c.in); got != c.line {
			t.Errorf("%s: Line = %q, want %q", c.name, got, c.line)
		}
		if got := Text(c.in); got != c.text {
			t.Errorf("%s: Text = %q, want %q", c.name, got, c.text)
		}
		if got, want := Unsafe(c.in), c.line != c.in; got != want {
			t.Errorf("%s: Unsafe = %t, want %t", c.name, got, want)
		}
	}
}

// TestEveryControl feeds each control byte and rune alone and checks none survives.
func TestEveryControl(t *testing.T) {
	for _, r := range Controls() {
		s := "<" + string(r) + ">"
		if strings.ContainsRune(Line(s), r) {
			t.Errorf("Line keeps %U", r)
		}
		if r != '\n' && r != '\t' && strings.ContainsRune(Text(s), r) {
			t.Errorf("Text keeps %U", r)
		}
	}
}

func TestUnchangedIsNotCopied(t *testing.T) {
	s := strings.Repeat("plain text ", 100)
	if allocs := testing.AllocsPerRun(10, func() { _ = Line(s) }); allocs != 0 {
		t.Errorf("Line of safe text allocates %.0f times", allocs)
	}
}

// FuzzLine checks, for any input, that the output of Line holds no raw control, bidi or
// invalid byte, is valid UTF-8, is idempotent, and that Text differs from Line only in
// kept newlines and tabs.
//
//	go test ./internal/termtext -run '^$' -fuzz FuzzLine -fuzztime 20s
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "plain", "a\tb\nc\r", "\x1b]52;c;x\a", "\u202e\u2066", "\x9b\xff\xc0", "é\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, text := Line(s), Text(s)
		for name, out := range map[string]string{"Line": line, "Text": text} {
			if !utf8.ValidString(out) {
				t.Fatalf("%s output is not valid UTF-8", name)
			}
			for _, r := range out {
				if dangerous(r) || r == 0x7f || (r < 0x20 && !(name == "Text" && (r == '\n' || r == '\t'))) {
					t.Fatalf("%s output keeps %U", name, r)
				}
			}
		}
		if Line(line) != line {
			t.Fatal("Line is not idempotent")
		}
		if Text(text) != text {
			t.Fatal("Text is not idempotent")
		}
		if strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(text) != line {
			t.Fatal("Text and Line differ in more than newlines and tabs")
		}
		if !Unsafe(s) && line != s {
			t.Fatal("Unsafe says no change, Line changed it")
		}
	})
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	n, err := Writer{&b}.Write([]byte("warn: \x1b[31mred\r\n"))
	if err != nil || n != 16 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got, want := b.String(), "warn: \\x1b[31mred\\r\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	for _, r := range Controls() {
		v := "a" + string(r) + "b\\\"c"
		enc, err := json.Marshal(map[string]string{"k": v})
		if err != nil {
			t.Fatal(err)
		}
		got := JSON(enc)
		if strings.ContainsRune(string(got), r) {
			t.Errorf("%U: JSON keeps it raw: %q", r, got)
		}
		var back map[string]string
		if err := json.Unmarshal(got, &back); err != nil || back["k"] != v {
			t.Errorf("%U: JSON changes the value: %q (%v)", r, got, err)
		}
	}
}
