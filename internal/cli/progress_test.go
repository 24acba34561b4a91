package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// slowBackend is an in-memory backend whose Put and Delete take step per name, reporting
// each name as it goes and announcing a retry before the first; fail makes them stop with
// an error after half of the names.
type slowBackend struct {
	pluginsdk.Backend
	step time.Duration
	fail error
}

func (s *slowBackend) each(ctx context.Context, names []string, one func(lo, hi int) ([]pluginsdk.Result, error)) ([]pluginsdk.Result, error) {
	n := len(names)
	out := make([]pluginsdk.Result, n)
	pluginsdk.Retrying(ctx)
	for i := range n {
		if s.fail != nil && i == n/2 {
			for j := i; j < n; j++ {
				out[j] = pluginsdk.OutcomeUnknown(names[j])
			}
			return out, s.fail
		}
		time.Sleep(s.step)
		res, err := one(i, i+1)
		if err != nil {
			return nil, err
		}
		out[i] = res[0]
		pluginsdk.Report(ctx, i, out[i])
	}
	return out, nil
}

func (s *slowBackend) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return s.each(ctx, names, func(lo, hi int) ([]pluginsdk.Result, error) {
		return s.Backend.Put(ctx, entries[lo:hi], mode)
	})
}

func (s *slowBackend) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	return s.each(ctx, names, func(lo, hi int) ([]pluginsdk.Result, error) {
		return s.Backend.Delete(ctx, names[lo:hi])
	})
}

func newSlow(t *testing.T, step time.Duration, fail error) *slowBackend {
	t.Helper()
	b := sdktest.NewMemory()
	if err := b.Configure(context.Background(), "test", nil); err != nil {
		t.Fatal(err)
	}
	return &slowBackend{Backend: b, step: step, fail: fail}
}

const fourEntries = "A=1\nB=2\nC=3\nD=4\n"

func importOpts(ios *IOStreams, b pluginsdk.Backend, output string) *ImportOptions {
	return &ImportOptions{IO: ios, File: "four.env", Output: output,
		Backend: func(context.Context) (pluginsdk.Backend, string, error) { return b, "test", nil },
		Open:    func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(fourEntries)), nil }}
}

// TestImportProgress: an import that takes longer than progressDelay shows a progress
// bar (count, rate, retries) on stderr when stderr is a terminal, and never on a pipe or
// with --output json; a short one shows none.
func TestImportProgress(t *testing.T) {
	cases := []struct {
		name    string
		errTTY  bool
		output  string
		step    time.Duration
		wantBar bool
	}{
		{name: "terminal, slow", errTTY: true, step: 400 * time.Millisecond, wantBar: true},
		{name: "terminal, fast", errTTY: true, step: 0},
		{name: "pipe, slow", errTTY: false, step: 400 * time.Millisecond},
		{name: "terminal, json, slow", errTTY: true, output: "json", step: 400 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ios, _, stderr := Test("")
			ios.ErrTTY = c.errTTY
			if err := runImport(context.Background(), importOpts(ios, newSlow(t, c.step, nil), c.output)); err != nil {
				t.Fatal(err)
			}
			got := stderr.String()
			bar := strings.Contains(got, "Importing (1 retry)") && strings.Contains(got, "/4") &&
				strings.Contains(got, "entries/s")
			if bar != c.wantBar {
				t.Errorf("progress bar shown: %t, want %t; stderr:\n%q", bar, c.wantBar, got)
			}
			if !c.wantBar && strings.Contains(got, "Importing") {
				t.Errorf("stderr has progress output:\n%q", got)
			}
			if c.output == "" && !strings.Contains(got, "Created 4: A, B, C, D") {
				t.Errorf("no summary on stderr:\n%q", got)
			}
		})
	}
}

// TestImportStoppedMidway: an import whose Put fails after some names were reported
// names those as created and the others as unknown, and never says nothing was imported;
// a Ctrl-C keeps its exit as cancelled.
func TestImportStoppedMidway(t *testing.T) {
	for _, stop := range []error{pluginsdk.Errorf(pluginsdk.ErrUnavailable, "the plugin went away"), context.Canceled} {
		ios, _, stderr := Test("")
		err := runImport(context.Background(), importOpts(ios, newSlow(t, 0, stop), ""))
		if !errors.Is(err, stop) {
			t.Errorf("%v: error %v", stop, err)
		}
		got := stderr.String()
		for _, want := range []string{"Created 2: A, B\n", "Not known whether written 2 (", "): C, D\n"} {
			if !strings.Contains(got, want) {
				t.Errorf("%v: summary lacks %q:\n%s", stop, want, got)
			}
		}
		if strings.Contains(got, "nothing was imported") || strings.Contains(err.Error(), "nothing was imported") {
			t.Errorf("%v: says nothing was imported: %v\n%s", stop, err, got)
		}
	}
}

// TestDeleteNotesAndUnknowns: a deletion's note replaces "Deleted"; names not reported
// before a failure are named as unknown.
func TestDeleteNotesAndUnknowns(t *testing.T) {
	b := newSlow(t, 0, pluginsdk.Errorf(pluginsdk.ErrUnavailable, "the plugin went away"))
	for _, n := range []string{"A", "B", "C", "D"} {
		if _, err := b.Backend.Put(context.Background(), []pluginsdk.Entry{{Name: n, Kind: pluginsdk.KindSecret,
			Value: pluginsdk.NewValue("v")}}, pluginsdk.Create); err != nil {
			t.Fatal(err)
		}
	}
	ios, _, stderr := Test("")
	noted := noteBackend{b}
	err := runDelete(context.Background(), &DeleteOptions{IO: ios, Names: []string{"A", "B", "C", "D"},
		Backend: func(context.Context) (pluginsdk.Backend, string, error) { return noted, "test", nil }})
	if err == nil || !strings.Contains(err.Error(), "the plugin went away") ||
		!strings.Contains(err.Error(), "not known whether C and D were deleted") {
		t.Errorf("error: %v", err)
	}
	got := stderr.String()
	if !strings.Contains(got, "✓ A (account test): scheduled for deletion, restorable until 2026-12-30 (recovery window 30 days)\n") ||
		strings.Contains(got, "Deleted A") {
		t.Errorf("stderr:\n%s", got)
	}
}

// noteBackend adds an AWS-like note to every successful deletion.
type noteBackend struct{ *slowBackend }

func (n noteBackend) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	res, err := n.slowBackend.Delete(ctx, names)
	for i := range res {
		if res[i].Err == nil {
			res[i].Note = "scheduled for deletion, restorable until 2026-12-30 (recovery window 30 days)"
		}
	}
	return res, err
}
