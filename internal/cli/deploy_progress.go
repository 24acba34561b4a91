package cli

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// rolloutLineWidth bounds the progress line on a terminal: a line that wraps cannot be
// rewritten in place. The reasons are cut; the error of a failed rollout has them whole.
const rolloutLineWidth = 79

// rollout shows how a deploy's rollout on a target goes, as the target plugin reports it
// (pluginsdk.WithProgress): "web: 1/2 updated, 0 available; pod web-5d8f: PodScheduled
// Unschedulable: ...". On a terminal stderr it is one line rewritten in place and erased
// when the deploy returns; otherwise one line per report (the plugin reports only
// changes), so a log gets a line per change and nothing else. The text comes from the
// cluster (pod names, reasons): it passes termtext.Line.
type rollout struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	agent string
	shown bool // a line is on the terminal
	done  bool
}

// startRollout returns ctx with the progress reporter of agent's rollout, and the function
// that ends the display. With --output json nothing is shown.
func startRollout(ctx context.Context, ios *IOStreams, output, agent string) (context.Context, func()) {
	if output == "json" {
		return ctx, func() {}
	}
	r := &rollout{w: ios.ErrOut, tty: ios.ErrTTY, agent: agent}
	return pluginsdk.WithProgress(ctx, r.update), r.stop
}

// rolloutText is one report as text: "AGENT: U/D updated, A available[, STATE][; REASONS]".
func rolloutText(agent string, st pluginsdk.AgentStatus) string {
	s := fmt.Sprintf("%s: %d/%d updated, %d available", agent, st.Updated, st.Desired, st.Available)
	if st.State == "failed" {
		s += ", failed"
	}
	if st.Message != "" {
		s += "; " + st.Message
	}
	return termtext.Line(s)
}

func (r *rollout) update(st pluginsdk.AgentStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	line := rolloutText(r.agent, st)
	if !r.tty {
		fmt.Fprintf(r.w, "rollout: %s\n", line)
		return
	}
	if rs := []rune(line); len(rs) > rolloutLineWidth {
		line = string(rs[:rolloutLineWidth-1]) + "…"
	}
	fmt.Fprintf(r.w, "\r\x1b[K%s", line)
	r.shown = true
}

// stop erases the line on a terminal (the summary or the error follows).
func (r *rollout) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	if r.shown {
		fmt.Fprint(r.w, "\r\x1b[K")
	}
}
