package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/host"
	"github.com/ast-cli/ast/pluginsdk"
)

// Factory gives commands what they share: streams, environment, configuration, and the
// active account's backend. The backend plugin starts on first use (after any prompt
// has read stdin: the plugin shares it) and Close stops it.
type Factory struct {
	IO *IOStreams
	// Getenv reads the environment; Environ is the whole of it, for child processes.
	Getenv  func(string) string
	Environ func() []string
	// Executable is the path of the running ast; built-in plugins sit beside it.
	Executable string
	// AccountFlag is the value of --account.
	AccountFlag string

	paths   *config.Paths
	cfg     *config.Config
	plugins []*host.Plugin
}

// NewFactory returns a Factory over the process's environment.
func NewFactory(ios *IOStreams) *Factory {
	exe, _ := os.Executable()
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return &Factory{IO: ios, Getenv: os.Getenv, Environ: os.Environ, Executable: exe}
}

// Paths returns where ast keeps its files.
func (f *Factory) Paths() (config.Paths, error) {
	if f.paths == nil {
		p, err := config.ResolvePaths(f.Getenv)
		if err != nil {
			return p, err
		}
		f.paths = &p
	}
	return *f.paths, nil
}

// Config loads the config file once.
func (f *Factory) Config() (*config.Config, error) {
	if f.cfg == nil {
		p, err := f.Paths()
		if err != nil {
			return nil, err
		}
		if f.cfg, err = config.Load(p.ConfigFile); err != nil {
			return nil, err
		}
	}
	return f.cfg, nil
}

// Where the account of a command came from (activeAccountName).
const (
	sourceFlag    = "--account"
	sourceEnv     = "AST_ACCOUNT"
	sourceConfig  = "active_account in the config file"
	sourceDefault = "default"
)

// activeAccountName returns the name of this command's account and where it came from:
// --account, else AST_ACCOUNT, else the config's active_account, else default.
func (f *Factory) activeAccountName(cfg *config.Config) (name, source string) {
	switch {
	case f.AccountFlag != "":
		return f.AccountFlag, sourceFlag
	case f.Getenv("AST_ACCOUNT") != "":
		return f.Getenv("AST_ACCOUNT"), sourceEnv
	case cfg.ActiveAccount != "":
		return cfg.ActiveAccount, sourceConfig
	}
	return config.DefaultAccount, sourceDefault
}

// ActiveAccount returns the account of this command: --account, else AST_ACCOUNT, else
// the configured active account, else default. An invalid or unknown name is an error
// that names where it came from (an invalid --account is a usage error; the rest are
// failures, exit 1).
func (f *Factory) ActiveAccount() (config.Account, error) {
	cfg, err := f.Config()
	if err != nil {
		return config.Account{}, err
	}
	name, source := f.activeAccountName(cfg)
	if err := config.ValidateAccountName(name); err != nil {
		err = fmt.Errorf("the account from %s: %w", source, err)
		if source == sourceFlag {
			return config.Account{}, &usageError{err}
		}
		return config.Account{}, err // a bad AST_ACCOUNT or config file: configuration, 1
	}
	a, err := cfg.Account(name)
	if err != nil {
		return a, fmt.Errorf("the account from %s: %w", source, err)
	}
	if a.Name == config.DefaultAccount && a.Backend != config.DefaultBackend {
		return a, fmt.Errorf("config file %s: account default is on backend %s, but default is always the local backend; "+
			"rename that account in the file (and use it with --account NAME)", cfg.Path(), a.Backend)
	}
	return a, nil
}

// AccountArg is what a hint must add to a command so that it uses this command's
// account: " --account NAME" when the account came from --account or AST_ACCOUNT (a
// hint without it would act on another account), else "".
func (f *Factory) AccountArg() string {
	cfg, err := f.Config()
	if err != nil {
		return ""
	}
	name, source := f.activeAccountName(cfg)
	if source == sourceFlag || source == sourceEnv {
		return " --account " + name
	}
	return ""
}

// Finder returns the plugin finder for this configuration and environment.
func (f *Factory) Finder() (host.Finder, error) {
	cfg, err := f.Config()
	if err != nil {
		return host.Finder{}, err
	}
	p, err := f.Paths()
	if err != nil {
		return host.Finder{}, err
	}
	var path []string
	for _, d := range filepath.SplitList(f.Getenv("AST_PLUGIN_PATH")) {
		if d != "" {
			path = append(path, d)
		}
	}
	finder := host.Finder{Pins: cfg.Plugins, ExeDir: filepath.Dir(f.Executable), PluginPath: path, DataDir: p.DataDir}
	return finder, finder.Check()
}

// StartPlugin finds and starts the plugin of backend, unconfigured. The plugin is
// stopped by Close.
func (f *Factory) StartPlugin(ctx context.Context, loc host.Location) (*host.Plugin, error) {
	opts, err := f.PluginOptions()
	if err != nil {
		return nil, err
	}
	p, err := host.Start(ctx, loc, opts)
	if err != nil {
		return nil, err
	}
	f.plugins = append(f.plugins, p)
	return p, nil
}

// PluginOptions are the options plugins start with: stderr, AST_LOG=debug and
// AST_PLUGIN_TIMEOUT.
func (f *Factory) PluginOptions() (host.Options, error) {
	opts := host.Options{Stderr: f.IO.ErrOut, Debug: f.Getenv("AST_LOG") == "debug"}
	if t := f.Getenv("AST_PLUGIN_TIMEOUT"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return opts, usageErrorf("AST_PLUGIN_TIMEOUT=%q: give a duration such as 90s or 2m", t)
		}
		opts.CallTimeout = d
	}
	return opts, nil
}

// Backend starts the plugin of account's backend and configures it for the account.
// Errors name the account and the backend.
func (f *Factory) Backend(ctx context.Context, account config.Account) (pluginsdk.Backend, error) {
	finder, err := f.Finder()
	if err != nil {
		return nil, err
	}
	loc, err := finder.Find(account.Backend)
	if err != nil {
		known := slices.Clone(host.Builtin)
		for _, l := range finder.All() {
			known = append(known, l.Backend)
		}
		if !slices.Contains(known, account.Backend) {
			return nil, fmt.Errorf("account %s: %w%s", account.Name, err, didYouMean(account.Backend, known))
		}
		return nil, fmt.Errorf("account %s: %w", account.Name, err)
	}
	p, err := f.StartPlugin(ctx, loc)
	if err != nil {
		return nil, err
	}
	if err := p.Configure(ctx, account.Name, account.Settings); err != nil {
		// The account's settings (or the environment they fall back to) are wrong: a
		// configuration problem, exit 1, even where the plugin says "invalid argument".
		return nil, &configError{fmt.Errorf("account %s (backend %s): %w", account.Name, account.Backend, err)}
	}
	return p, nil
}

// Close stops every plugin started for this command.
func (f *Factory) Close() {
	for _, p := range f.plugins {
		p.Close()
	}
	f.plugins = nil
}

// joinNames lists names for a message: A, B and C.
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// plural is one when n is 1, else many: "entry"/"entries", "was"/"were". Every message
// whose words follow a count goes through it (TestCountWords).
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
