package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestImportSummaryNamesKindChanges: the plan (dry run) and the summary name every kind
// an overwrite changes.
func TestImportSummaryNamesKindChanges(t *testing.T) {
	entries := []importLine{
		{Name: "REGION", Kind: "secret", PreviousKind: "plain", Action: "overwrite"},
		{Name: "TOKEN", Kind: "plain", PreviousKind: "secret", Action: "overwrite"},
		{Name: "SAME", Kind: "secret", Action: "overwrite"},
		{Name: "LOST", Kind: "secret", PreviousKind: "plain", Action: actionFailed, Error: "denied"},
	}
	for _, dry := range []bool{true, false} {
		var b bytes.Buffer
		printImportSummary(&b, importReport{File: "f", Account: "a", DryRun: dry, Entries: entries})
		want := "Changed kind 2: REGION: plain → secret, TOKEN: secret → plain\n"
		if dry {
			want = "Would change kind 2: REGION: plain → secret, TOKEN: secret → plain\n"
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry run %t: summary lacks %q:\n%s", dry, want, b.String())
		}
	}
}
