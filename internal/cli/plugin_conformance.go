package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/host"
	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// PluginTestOptions are the inputs of `ast plugin test`.
type PluginTestOptions struct {
	IO *IOStreams
	// Plugin is a backend name (found as every backend is) or a path to an executable
	// (anything with a slash in it).
	Plugin string
	// Settings are the --set KEY=VALUE arguments.
	Settings []string
	// Writers is the number of plugin processes of the concurrency checks; 0 means 8.
	Writers int
	// Parallel is how many checks run at once; 0 means 4.
	Parallel int

	Config func() (*config.Config, error)
	Finder func() (host.Finder, error)
	// Start starts a plugin process that the caller stops (host.Start with the command's
	// options).
	Start func(ctx context.Context, loc host.Location) (*host.Plugin, error)
}

// refusedSettings could aim the suite at real data: a store location, an existing folder,
// entries under other names. The suite makes its own private location where the backend
// takes one.
var refusedSettings = map[string]string{
	"dir":      "the test makes a private temporary directory of its own",
	"key_file": "the test keeps its keys in its private temporary directory",
	"path":     "it names an existing folder, where the test would write and delete",
	"aliases":  "they map names to entries the test did not make",
}

// NewCmdPluginTest is `ast plugin test NAME|PATH [--set KEY=VALUE]...`.
func NewCmdPluginTest(f *Factory) *cobra.Command {
	opts := &PluginTestOptions{IO: f.IO, Config: f.Config, Finder: f.Finder,
		Start: func(ctx context.Context, loc host.Location) (*host.Plugin, error) {
			o, err := f.PluginOptions()
			if err != nil {
				return nil, err
			}
			return host.Start(ctx, loc, o)
		}}
	cmd := &cobra.Command{
		Use:   "test NAME|PATH [--set KEY=VALUE]...",
		Short: "Run the backend conformance suite against a plugin binary",
		Long: `Run pluginsdk's conformance suite (the one a plugin's Go tests run through sdktest)
against a plugin executable, over the real plugin protocol: one plugin process per client,
as ast starts them. NAME is found as any backend is (next to ast, $AST_PLUGIN_PATH, the data
directory's plugins/, or a path pinned in the config); a PATH is anything with a slash.

The suite writes and deletes entries in throwaway accounts it names itself (sdk followed by
random hex; a name that exists in the config is refused). Where the backend takes one, it
works in a private temporary location: a fresh directory for a "dir" setting (local and
most file-based backends), recovery_window_days=0 on AWS so that deletions are final.
Settings that could aim it at real data (path, aliases, dir, key_file) are refused; give
a server's address and the like with --set. Anything it could not remove is listed.

It prints one line per check, PASS or FAIL with the reason, and "N passed, M failed";
the exit status is 0 only when every check passed.

  ast plugin test example
  ast plugin test ./ast-plugin-sqlite
  VAULT_TOKEN=... ast plugin test hashicorp --set address=http://127.0.0.1:8200`,
		Args: exactArgs(1, "a plugin NAME or PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Plugin = args[0]
			return runPluginTest(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Settings, "set", nil, "a backend setting KEY=VALUE (repeatable)")
	cmd.Flags().IntVar(&opts.Writers, "writers", 8, "plugin processes in the concurrency checks")
	return cmd
}

// privateSettings are the settings that keep the suite to itself, offered to every
// backend in turn; one it refuses with ErrInvalidArgument (as it must refuse any setting
// it does not know) is left out. "dir" gets a fresh directory per store.
var privateSettings = []struct{ key, value string }{
	{"dir", ""},
	{"recovery_window_days", "0"},
}

func runPluginTest(ctx context.Context, opts *PluginTestOptions) error {
	settings, err := parseSettings(opts.Settings)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if why, ok := refusedSettings[k]; ok {
			return usageErrorf("ast plugin test refuses --set %s: %s", k, why)
		}
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	loc, err := pluginTestLocation(opts)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ast-plugin-test-")
	if err != nil {
		return fmt.Errorf("creating the test's private directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	run := &suiteRun{opts: opts, loc: loc, cfg: cfg, tmp: tmp}
	first, err := opts.Start(ctx, loc)
	if err != nil {
		return err
	}
	info := first.Describe()
	first.Close()
	private, err := run.probePrivate(ctx, settings)
	if err != nil {
		return err
	}
	merged := maps.Clone(settings)
	for k, v := range private {
		merged[k] = v
	}
	fmt.Fprintf(opts.IO.Out, "testing the %s plugin %s (version %s, protocol %d)%s\n",
		oneLine(info.Name), loc.Path, oneLine(info.Version), info.Protocol, describePrivate(private))

	writers := opts.Writers
	if writers <= 0 {
		writers = 8
	}
	sc := sdktest.Config{
		New:      run.newBackend,
		Settings: merged,
		Writers:  writers,
		Remote:   true,
		Account:  refuseConfigured(cfg),
		Leftover: run.leftover,
	}
	if _, ok := private["dir"]; ok {
		sc.FreshStore = func(sdktest.T) map[string]string { return map[string]string{"dir": run.newDir()} }
	}

	checks := sdktest.Checks()
	results := make([]*checkT, len(checks))
	done := make([]chan struct{}, len(checks))
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	slots := make(chan struct{}, parallel)
	for i, c := range checks {
		results[i] = &checkT{name: c.Name}
		done[i] = make(chan struct{})
		go func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i].run(func(t sdktest.T) { c.Run(t, sc) })
			close(done[i])
		}()
	}
	failed := 0
	for i := range checks {
		select {
		case <-done[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if results[i].Failed() {
			failed++
		}
		fmt.Fprintln(opts.IO.Out, results[i].line())
	}
	_, privateDir := private["dir"]
	run.printLeftovers(opts.IO.Out, privateDir)
	fmt.Fprintf(opts.IO.Out, "%d passed, %d failed\n", len(checks)-failed, failed)
	if failed > 0 {
		return &silentError{code: ExitFailure}
	}
	return nil
}

// refuseConfigured refuses the names of the config's accounts (the implicit default
// included): the suite deletes what it finds in its accounts.
func refuseConfigured(cfg *config.Config) func(name string) error {
	return func(name string) error {
		if _, ok := cfg.Accounts[name]; ok || name == config.DefaultAccount {
			return fmt.Errorf("an account of that name exists in the config %s", cfg.Path())
		}
		return nil
	}
}

// pluginTestLocation resolves opts.Plugin: a path (with a slash) is taken as it is, made
// absolute and free of symlinks; a name is found as every backend is.
func pluginTestLocation(opts *PluginTestOptions) (host.Location, error) {
	if !strings.ContainsRune(opts.Plugin, filepath.Separator) {
		finder, err := opts.Finder()
		if err != nil {
			return host.Location{}, err
		}
		return finder.Find(opts.Plugin)
	}
	abs, err := filepath.Abs(opts.Plugin)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return host.Location{}, fmt.Errorf("plugin %s: %w", opts.Plugin, errors.Unwrap(err))
	}
	backend := strings.TrimPrefix(filepath.Base(abs), host.ExecutablePrefix)
	if config.ValidateBackendName(backend) != nil {
		backend = "tested"
	}
	return host.Location{Backend: backend, Path: abs, Source: "command line"}, nil
}

// suiteRun is one run of `ast plugin test`: the plugin, its private directory, and what
// the checks could not remove.
type suiteRun struct {
	opts *PluginTestOptions
	loc  host.Location
	cfg  *config.Config
	tmp  string

	mu   sync.Mutex
	dirs int
	left []string // "account: names (reason)"
}

// newDir returns a new, empty private directory under the run's temporary directory.
func (r *suiteRun) newDir() string {
	r.mu.Lock()
	r.dirs++
	dir := filepath.Join(r.tmp, fmt.Sprintf("store-%d", r.dirs))
	r.mu.Unlock()
	_ = os.Mkdir(dir, 0o700)
	return dir
}

// newBackend starts a plugin process for a check; the check's end stops it.
func (r *suiteRun) newBackend(t sdktest.T) pluginsdk.Backend {
	p, err := r.opts.Start(context.Background(), r.loc)
	if err != nil {
		t.Fatalf("starting the plugin: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// probePrivate offers each private setting to a plugin process of its own (a plugin takes
// one Configure) and returns those the backend accepted.
func (r *suiteRun) probePrivate(ctx context.Context, settings map[string]string) (map[string]string, error) {
	accepted := map[string]string{}
	for _, ps := range privateSettings {
		value := ps.value
		if ps.key == "dir" {
			value = r.newDir()
		}
		s := maps.Clone(settings)
		s[ps.key] = value
		p, err := r.opts.Start(ctx, r.loc)
		if err != nil {
			return nil, err
		}
		err = p.Configure(ctx, "sdkprobe"+randomSuffix(), s)
		p.Close()
		switch {
		case err == nil:
			accepted[ps.key] = value
		case !errors.Is(err, pluginsdk.ErrInvalidArgument):
			return nil, fmt.Errorf("the %s plugin: Configure with the given settings: %w", r.loc.Backend, err)
		}
	}
	return accepted, nil
}

func describePrivate(private map[string]string) string {
	if len(private) == 0 {
		return "\nno private location: the backend takes neither dir nor recovery_window_days; throwaway accounts only"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(private)) {
		if k == "dir" {
			parts = append(parts, "dir=<a private temporary directory>")
		} else {
			parts = append(parts, k+"="+private[k])
		}
	}
	return "\nprivate location: " + strings.Join(parts, ", ")
}

func (r *suiteRun) leftover(account string, names []string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	what := "the account could not be listed"
	if names != nil {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = oneLine(n)
		}
		what = strings.Join(quoted, ", ")
	}
	r.left = append(r.left, fmt.Sprintf("account %s: %s (%s)", account, what, oneLine(err.Error())))
}

// printLeftovers lists what the checks could not remove. With a private directory the
// entries went there and are gone with it; without one they are in the backend's store.
func (r *suiteRun) printLeftovers(w io.Writer, privateDir bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.left) == 0 {
		return
	}
	sort.Strings(r.left)
	if privateDir {
		fmt.Fprintf(w, "%d %s kept entries the plugin could not delete; they were in the private directory, removed with it\n",
			len(r.left), plural(len(r.left), "account", "accounts"))
		return
	}
	fmt.Fprintf(w, "could not remove (delete these by hand):\n")
	for _, l := range r.left {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// checkT runs one check and collects what it reports: it is the sdktest.T of ast plugin
// test. FailNow ends the check's goroutine, as testing does.
type checkT struct {
	name     string
	mu       sync.Mutex
	failed   bool
	problems []string
	cleanups []func()
}

func (t *checkT) Helper()      {}
func (t *checkT) Name() string { return t.name }
func (t *checkT) Logf(string, ...any) {
	// Logs are the suite's notes (a cleanup's trouble reaches Leftover); the line shows
	// only what failed.
}

func (t *checkT) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
	t.problems = append(t.problems, oneLine(fmt.Sprintf(format, args...)))
}

func (t *checkT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	t.FailNow()
}

func (t *checkT) FailNow() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	runtime.Goexit()
}

func (t *checkT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *checkT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// run runs check in a goroutine of its own (FailNow ends it) and then the cleanups, last
// registered first. A panic fails the check.
func (t *checkT) run(check func(sdktest.T)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("the check panicked: %v", r)
			}
		}()
		check(t)
	}()
	<-done
	t.mu.Lock()
	cleanups := t.cleanups
	t.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		func() {
			defer func() { _ = recover() }()
			cleanups[i]()
		}()
	}
}

// line is the check's one line: PASS NAME, or FAIL NAME: the first problems.
func (t *checkT) line() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.failed {
		return "PASS " + t.name
	}
	if len(t.problems) == 0 {
		return "FAIL " + t.name
	}
	const most = 3
	shown := t.problems[:min(most, len(t.problems))]
	line := "FAIL " + t.name + ": " + strings.Join(shown, "; ")
	if more := len(t.problems) - len(shown); more > 0 {
		line += fmt.Sprintf(" (and %d more)", more)
	}
	return line
}

// oneLine makes text from a plugin safe for one line of a terminal (termtext.Line:
// control characters, newlines included, are escaped).
func oneLine(s string) string { return termtext.Line(s) }

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
