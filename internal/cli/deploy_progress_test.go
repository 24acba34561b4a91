package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

func TestRolloutProgress(t *testing.T) {
	reports := []pluginsdk.AgentStatus{
		{Desired: 2, State: "progressing"},
		{Desired: 2, Updated: 2, Available: 0, State: "progressing",
			Message: "pod web-1: PodScheduled Unschedulable: 0/1 nodes are available: 1 Insufficient cpu. \x1b]0;pwned\x07\x1b[2J"},
		{Desired: 2, Updated: 2, Available: 2, State: "available"},
	}
	tests := []struct {
		name, output string
		tty          bool
		want         []string // in order
		not          []string
		lines        int // newlines written
	}{
		{"piped: a line per report", "", false, []string{
			"rollout: web: 0/2 updated, 0 available\n",
			"rollout: web: 2/2 updated, 0 available; pod web-1: PodScheduled Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.",
			"rollout: web: 2/2 updated, 2 available\n"}, []string{"\x1b", "\x07", "\r"}, 3},
		{"terminal: one line rewritten, then erased", "", true, []string{
			"\r\x1b[Kweb: 0/2 updated, 0 available", "\r\x1b[Kweb: 2/2 updated, 0 available; pod web-1", "…",
			"\r\x1b[Kweb: 2/2 updated, 2 available", "\r\x1b[K"}, []string{"\x1b]", "\x07", "\x1b[2J"}, 0},
		{"json: nothing", "json", true, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			ios := &IOStreams{ErrOut: &errOut, ErrTTY: tt.tty}
			ctx, stop := startRollout(context.Background(), ios, tt.output, "web")
			for _, st := range reports {
				pluginsdk.ReportProgress(ctx, st)
			}
			stop()
			pluginsdk.ReportProgress(ctx, reports[0]) // after the deploy: ignored
			got := errOut.String()
			if tt.want == nil && got != "" {
				t.Errorf("wrote %q, want nothing", got)
			}
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("no %q (in order) in %q", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(strings.ReplaceAll(got, "\r\x1b[K", ""), n) {
					t.Errorf("%q reached stderr: %q", n, got)
				}
			}
			if n := strings.Count(got, "\n"); n != tt.lines {
				t.Errorf("%d lines, want %d: %q", n, tt.lines, got)
			}
			if tt.tty {
				for _, l := range strings.Split(got, "\r\x1b[K") {
					if len([]rune(l)) > rolloutLineWidth {
						t.Errorf("a line of %d runes on the terminal (it would wrap): %q", len([]rune(l)), l)
					}
				}
			}
		})
	}
}
