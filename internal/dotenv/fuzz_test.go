package dotenv

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// maxSeed is the size of the largest seed input the fuzz targets take.
const maxSeed = 4096

// FuzzParse checks that Parse never panics and keeps its contract on any input: a file or
// a *ParseError, never both; accepted entries have valid names and values, unique keys,
// increasing lines; problems are sorted; and every accepted value survives Quote.
//
//	go test ./internal/dotenv -run '^$' -fuzz FuzzParse -fuzztime 20s
func FuzzParse(f *testing.F) {
	// Large seeds slow mutation and minimization down; the table tests cover large files.
	for _, c := range readCorpus(f) {
		if len(c.src) <= maxSeed {
			f.Add(c.src)
		}
	}
	for _, c := range parseCases() {
		if len(c.src) <= maxSeed {
			f.Add([]byte(c.src))
		}
	}
	f.Add([]byte(Example))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse(src)
		lines := bytes.Count(src, []byte{'\n'}) + 1
		if err != nil {
			if file != nil {
				t.Fatal("Parse returned both a file and an error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("error %T without problems", err)
			}
			if !slices.IsSortedFunc(pe.Problems, func(a, b Problem) int { return a.Line - b.Line }) {
				t.Fatal("problems not sorted by line")
			}
			for _, p := range pe.Problems {
				if p.Line < 1 || p.Line > lines || p.Message == "" {
					t.Fatalf("problem on line %d of %d: %q", p.Line, lines, p.Message)
				}
			}
			return
		}
		if file == nil {
			t.Fatal("Parse returned neither a file nor an error")
		}
		seen := map[string]bool{}
		prevLine := 0
		var rewritten strings.Builder
		for _, e := range file.Entries {
			if err := pluginsdk.ValidateName(e.Key); err != nil {
				t.Fatalf("accepted an invalid key on line %d: %v", e.Line, err)
			}
			if e.Blank != (e.Value == "") {
				t.Fatalf("%s: Blank is %v for a value of %d bytes", e.Key, e.Blank, len(e.Value))
			}
			if !e.Blank {
				if err := pluginsdk.ValidateValue(pluginsdk.NewValue(e.Value)); err != nil {
					t.Fatalf("%s: accepted an invalid value: %v", e.Key, err)
				}
			}
			if seen[e.Key] {
				t.Fatalf("%s appears twice", e.Key)
			}
			seen[e.Key] = true
			if e.Line <= prevLine || e.Line > lines {
				t.Fatalf("%s on line %d after line %d, file of %d lines", e.Key, e.Line, prevLine, lines)
			}
			prevLine = e.Line
			rewritten.WriteString(e.Key + "=" + Quote(e.Value) + "\n")
		}
		if !slices.IsSortedFunc(file.Warnings, func(a, b Warning) int { return a.Line - b.Line }) {
			t.Fatal("warnings not sorted by line")
		}
		again, err := Parse([]byte(rewritten.String()))
		if err != nil {
			t.Fatalf("the entries written with Quote do not parse:\n%v", err)
		}
		if len(again.Entries) != len(file.Entries) {
			t.Fatalf("the entries written with Quote parse to %d entries, want %d", len(again.Entries), len(file.Entries))
		}
		for i, e := range again.Entries {
			if e.Key != file.Entries[i].Key || e.Value != file.Entries[i].Value {
				t.Fatalf("%s written with Quote parses back as %s: %s",
					file.Entries[i].Key, e.Key, valueDiff(e.Value, file.Entries[i].Value))
			}
		}
	})
}

// FuzzRoundTrip checks that any map of valid names to valid values, written as
// KEY=Quote(value) lines, parses back to the same map. pairs holds names and values
// alternately, separated by NUL (which no value holds); invalid names are replaced by
// SuggestName, and pairs that stay invalid are dropped. The bits of style vary how the
// file is written: CRLF line ends, spaces around "=", "export ", trailing comments, a BOM,
// comment lines.
//
//	go test ./internal/dotenv -run '^$' -fuzz FuzzRoundTrip -fuzztime 20s
func FuzzRoundTrip(f *testing.F) {
	for i, c := range readCorpus(f) {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(c.Expect)) {
			parts = append(parts, k, c.Expect[k])
		}
		if seed := strings.Join(parts, "\x00"); len(seed) <= maxSeed {
			f.Add(seed, byte(i))
		}
	}
	f.Add("A\x00plain\x00my-key\x00it's \"$HOME\"\\n\x00B\x00 two\r\nlines\t", byte(0))
	f.Add("PEM\x00-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n\x00HASH\x00a #b", byte(0x1f))
	f.Fuzz(func(t *testing.T, pairs string, style byte) {
		want := map[string]string{}
		parts := strings.Split(pairs, "\x00")
		for i := 0; i+1 < len(parts); i += 2 {
			name, value := parts[i], parts[i+1]
			if pluginsdk.ValidateName(name) != nil {
				name = pluginsdk.SuggestName(name)
			}
			if pluginsdk.ValidateName(name) != nil || pluginsdk.ValidateValue(pluginsdk.NewValue(value)) != nil {
				continue
			}
			want[name] = value
		}
		src := writeFile(want, style)
		file, err := Parse(src)
		if err != nil {
			t.Fatalf("a file written with Quote does not parse:\n%v", err)
		}
		got := map[string]string{}
		for _, e := range file.Entries {
			got[e.Key] = e.Value
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			v, ok := got[k]
			if !ok {
				t.Fatalf("%s: missing after the round trip", k)
			}
			if d := valueDiff(v, want[k]); d != "" {
				t.Fatalf("%s: value %s", k, d)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d entries after the round trip, want %d", len(got), len(want))
		}
	})
}

// writeFile writes m as a .env file, keys sorted, in the layout style asks for.
func writeFile(m map[string]string, style byte) []byte {
	eol := "\n"
	if style&1 != 0 {
		eol = "\r\n"
	}
	var b strings.Builder
	if style&16 != 0 {
		b.WriteString("\uFEFF")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if style&32 != 0 {
			b.WriteString("# " + k + eol + eol)
		}
		if style&4 != 0 {
			b.WriteString("export ")
		}
		b.WriteString(k)
		if style&2 != 0 {
			b.WriteString(" =\t")
		} else {
			b.WriteString("=")
		}
		b.WriteString(Quote(m[k]))
		if style&8 != 0 {
			b.WriteString(" # comment")
		}
		b.WriteString(eol)
	}
	return []byte(b.String())
}
