package dotenv

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusDir holds the shared .env corpus: NAME.env files from real bug reports, each with
// NAME.json saying what an import must do. CI has the same layout as the workspace.
const corpusDir = "../../../shared/testdata/dotenv"

// corpusCase is one NAME.env of the corpus and its NAME.json.
type corpusCase struct {
	name string
	src  []byte
	// Expect maps each imported (non-blank) key to its value.
	Expect map[string]string `json:"expect"`
	// SkippedBlank lists the keys with blank values.
	SkippedBlank []string `json:"skipped_blank"`
	// Error, when set, says the file is malformed and which line the error names.
	Error *struct {
		Line int `json:"line"`
	} `json:"error"`
}

// readCorpus returns the cases of corpusDir sorted by name, or nil when the folder is
// missing.
func readCorpus(tb testing.TB) []corpusCase {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.env"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []corpusCase
	for _, path := range paths {
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(path), ".env")}
		if c.src, err = os.ReadFile(path); err != nil {
			tb.Fatal(err)
		}
		spec, err := os.ReadFile(strings.TrimSuffix(path, ".env") + ".json")
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(spec, &c); err != nil {
			tb.Fatalf("%s.json: %v", c.name, err)
		}
		cases = append(cases, c)
	}
	return cases
}

func TestCorpus(t *testing.T) {
	cases := readCorpus(t)
	if len(cases) == 0 {
		t.Skipf("no .env corpus at %s (the shared test data sits next to the repository)", corpusDir)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.src)
			if c.Error != nil {
				// The import must fail and name the line; other lines may be named too.
				checkNamesLine(t, err, c.Error.Line)
				return
			}
			if err != nil {
				t.Fatalf("Parse failed:\n%v", err)
			}
			got := map[string]string{}
			var blanks []string
			for _, e := range f.Entries {
				if e.Blank {
					blanks = append(blanks, e.Key)
					continue
				}
				got[e.Key] = e.Value
			}
			for _, k := range slices.Sorted(maps.Keys(c.Expect)) {
				v, ok := got[k]
				switch {
				case !ok:
					t.Errorf("%s: missing", k)
				default:
					if d := valueDiff(v, c.Expect[k]); d != "" {
						t.Errorf("%s: value %s", k, d)
					}
				}
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				if _, ok := c.Expect[k]; !ok {
					t.Errorf("%s: imported but not expected", k)
				}
			}
			if !slices.Equal(blanks, c.SkippedBlank) && len(blanks)+len(c.SkippedBlank) > 0 {
				t.Errorf("blank keys %q, want %q", blanks, c.SkippedBlank)
			}
		})
	}
}

// checkNamesLine checks that err is a *ParseError with a problem on line.
func checkNamesLine(t *testing.T, err error, line int) {
	t.Helper()
	pe, ok := err.(*ParseError)
	if !ok {
		t.Fatalf("Parse error = %v, want a *ParseError naming line %d", err, line)
	}
	for _, p := range pe.Problems {
		if p.Line == line {
			return
		}
	}
	t.Errorf("no problem on line %d:\n%v", line, err)
}
