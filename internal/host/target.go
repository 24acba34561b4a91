package host

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/pluginsdk"
)

// Target is a started deploy target plugin (ast-target-TYPE), with the guarantees of a
// backend plugin: verified before it is executed, a private channel, per-call deadlines,
// no process left behind. It implements pluginsdk.Target; Close stops it.
type Target struct {
	*Plugin
	raw pluginsdk.Target
}

// StartTarget starts the target plugin at loc (after Verify, as Start does) and asks for
// its Info. It does not Configure it.
func StartTarget(ctx context.Context, loc Location, opts Options) (*Target, error) {
	p, raw, err := launch(loc, opts, pluginsdk.TargetHandshake, pluginsdk.TargetPluginSets(nil), pluginsdk.TargetPluginName)
	if err != nil {
		return nil, err
	}
	t := &Target{Plugin: p, raw: raw.(pluginsdk.Target)}
	if t.info, err = t.Info(ctx); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// TargetTypes returns the target types whose plugin (an executable ast-target-TYPE) is
// in the directories FindTarget searches, sorted, each once: the names a mistyped type is
// compared with.
func (f Finder) TargetTypes() []string {
	seen := map[string]bool{}
	for _, d := range f.dirs() {
		ents, _ := os.ReadDir(d.dir)
		for _, e := range ents {
			typ, ok := strings.CutPrefix(e.Name(), pluginsdk.TargetExecutablePrefix)
			if ok && config.ValidateBackendName(typ) == nil && e.Type()&os.ModeDir == 0 {
				seen[typ] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// FindTarget returns the location of the plugin of target type typ: the executable
// ast-target-TYPE next to ast, in $AST_PLUGIN_PATH or in the data directory's plugins/.
// Location.Backend holds the type (messages say "the kubernetes plugin").
func (f Finder) FindTarget(typ string) (Location, error) {
	if err := config.ValidateBackendName(typ); err != nil {
		return Location{}, fmt.Errorf("invalid target type %q: %w", typ, err)
	}
	var looked []string
	for _, d := range f.dirs() {
		p := filepath.Join(d.dir, pluginsdk.TargetExecutablePrefix+typ)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return Location{Backend: typ, Path: p, Source: d.source}, nil
		}
		looked = append(looked, d.dir)
	}
	return Location{}, fmt.Errorf("unknown target type %q: no plugin executable %s%s in %v (built-in: local; make build puts ast-target-kubernetes beside ast)",
		typ, pluginsdk.TargetExecutablePrefix, typ, looked)
}

// Configure implements pluginsdk.Target.
func (t *Target) Configure(ctx context.Context, target string, settings map[string]string) error {
	return t.call(ctx, "Configure", func(ctx context.Context) error { return t.raw.Configure(ctx, target, settings) })
}

// Info implements pluginsdk.Target.
func (t *Target) Info(ctx context.Context) (info pluginsdk.Info, err error) {
	err = t.call(ctx, "Info", func(ctx context.Context) (err error) { info, err = t.raw.Info(ctx); return })
	return info, err
}

// Deploy implements pluginsdk.Target. A deploy that waits gets its timeout on top of the
// per-call deadline.
func (t *Target) Deploy(ctx context.Context, w pluginsdk.Workload, opts pluginsdk.DeployOptions) (res pluginsdk.DeployResult, err error) {
	d := t.timeout
	if opts.Wait {
		d += opts.Timeout
	}
	err = t.callFor(ctx, "Deploy", d, func(ctx context.Context) (err error) { res, err = t.raw.Deploy(ctx, w, opts); return })
	return res, err
}

// Status implements pluginsdk.Target.
func (t *Target) Status(ctx context.Context, agents []string) (sts []pluginsdk.AgentStatus, err error) {
	err = t.call(ctx, "Status", func(ctx context.Context) (err error) { sts, err = t.raw.Status(ctx, agents); return })
	return sts, err
}

// Stop implements pluginsdk.Target; the wait for the objects to go is on top of the
// per-call deadline.
func (t *Target) Stop(ctx context.Context, agent string, timeout time.Duration) (found bool, err error) {
	err = t.callFor(ctx, "Stop", t.timeout+timeout, func(ctx context.Context) (err error) { found, err = t.raw.Stop(ctx, agent, timeout); return })
	return found, err
}

// Logs implements pluginsdk.Target. Following has no deadline but ctx's.
func (t *Target) Logs(ctx context.Context, agent string, opts pluginsdk.LogOptions, w io.Writer) error {
	d := t.timeout
	if opts.Follow {
		d = 100 * 365 * 24 * time.Hour
	}
	return t.callFor(ctx, "Logs", d, func(ctx context.Context) error { return t.raw.Logs(ctx, agent, opts, w) })
}
