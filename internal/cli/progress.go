package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ast-cli/ast/pluginsdk"
)

// progressDelay is how long a write or delete runs before its progress is shown: shorter
// ones finish before a bar would help.
const progressDelay = time.Second

// progress shows how far a Put or Delete is, on stderr: done/total, the rate, and the
// retries the plugin announced (a throttled backend). It is fed by the per-name results
// the plugin reports (pluginsdk.WithReporter) and its heartbeats.
type progress struct {
	mu      sync.Mutex
	ios     *IOStreams
	verb    string
	total   int
	done    int
	retries int
	timer   *time.Timer
	bar     *progressbar.ProgressBar // nil until progressDelay has passed
	stopped bool
}

// startProgress returns ctx with the reporter of a progress display of a Put or Delete of
// total names, and the function that removes the display when the call has returned. The
// display appears only on a terminal (stderr is one), never with --output json, and only
// after progressDelay; otherwise ctx comes back unchanged.
func startProgress(ctx context.Context, ios *IOStreams, output, verb string, total int) (context.Context, func()) {
	if !ios.ErrTTY || output == "json" || total < 1 {
		return ctx, func() {}
	}
	p := &progress{ios: ios, verb: verb, total: total}
	p.timer = time.AfterFunc(progressDelay, p.show)
	ctx = pluginsdk.WithReporter(ctx, func(int, pluginsdk.Result) { p.update(1, false) })
	ctx = pluginsdk.WithHeartbeat(ctx, func(retry bool) { p.update(0, retry) })
	return ctx, p.stop
}

func (p *progress) description() string {
	if p.retries == 0 {
		return p.verb
	}
	unit := "retries"
	if p.retries == 1 {
		unit = "retry"
	}
	return fmt.Sprintf("%s (%d %s)", p.verb, p.retries, unit)
}

// show creates the bar, once progressDelay has passed.
func (p *progress) show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.bar = progressbar.NewOptions(p.total,
		progressbar.OptionSetWriter(p.ios.ErrOut),
		progressbar.OptionSetDescription(p.description()),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("entries"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionUseANSICodes(true),
	)
	_ = p.bar.Set(p.done)
}

// update counts n more names done, and a retry.
func (p *progress) update(n int, retry bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if retry {
		p.retries++
	}
	if p.bar == nil || p.stopped {
		return
	}
	if retry {
		p.bar.Describe(p.description())
	}
	_ = p.bar.Add(n)
}

// stop removes the bar (the summary follows on the lines it used).
func (p *progress) stop() {
	p.timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}
