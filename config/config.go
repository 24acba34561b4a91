// Package config holds ast's configuration: where files live, the accounts and their
// backends, and third-party plugin pins. It is read with viper from one YAML file:
//
//	active_account: team
//	accounts:
//	  team:
//	    backend: hashicorp
//	    settings:
//	      address: https://vault.example.com:8200
//	targets:
//	  prod:
//	    type: kubernetes
//	    settings:
//	      context: prod-eu
//	      namespace: agents
//	plugins:
//	  example:
//	    path: /opt/ast/ast-plugin-example
//	    sha256: 3f1c...
//
// With no file at all there is one account, "default", on the local backend, so a new
// user's first command works with nothing set up. Credentials never go into this file:
// backends read them from the environment and their own tools' files.
//
// The file decides where credentials are sent (a Vault address), so it is trusted only
// when internal/fsperm's rule holds for it and its directory: owned by the user or root,
// not writable by group or others. Changes go through Update, which holds a lock,
// re-reads the file and replaces it atomically, so concurrent commands lose nothing.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/renameio/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/ast-cli/ast/internal/fsperm"
	"github.com/ast-cli/ast/pluginsdk"
)

// DefaultAccount is the account used when none is chosen; it is on the local backend
// unless the config file says otherwise.
const DefaultAccount = "default"

// DefaultBackend is the backend of the implicit default account.
const DefaultBackend = "local"

// Paths are the locations ast uses, from DESIGN.md "Accounts and configuration".
type Paths struct {
	// ConfigFile is $AST_CONFIG, else $XDG_CONFIG_HOME/ast/config.yaml, else
	// ~/.config/ast/config.yaml.
	ConfigFile string
	// ConfigDir is the directory of ConfigFile (blueprints/ lives there).
	ConfigDir string
	// DataDir is $XDG_DATA_HOME/ast, else ~/.local/share/ast (stores, plugins/).
	DataDir string
	// StateDir is $XDG_STATE_HOME/ast, else ~/.local/state/ast (deployments, agent logs).
	StateDir string
}

// ResolvePaths computes Paths from the environment, read through getenv.
func ResolvePaths(getenv func(string) string) (Paths, error) {
	home := getenv("HOME")
	// A relative HOME or XDG_* would put ast's files (and the plugins it runs) wherever the
	// current directory is, a cloned repository say: refused, naming the variable.
	xdg := func(env, fallback string) (string, error) {
		if d := getenv(env); d != "" {
			if !filepath.IsAbs(d) {
				return "", fmt.Errorf("$%s is the relative path %q: it must be absolute", env, d)
			}
			return d, nil
		}
		if home == "" {
			return "", fmt.Errorf("neither $%s nor $HOME is set: ast needs one to find its files", env)
		}
		if !filepath.IsAbs(home) {
			return "", fmt.Errorf("$HOME is the relative path %q: it must be absolute", home)
		}
		return filepath.Join(home, fallback), nil
	}
	var p Paths
	cfgHome, err := xdg("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return p, err
	}
	p.ConfigFile = filepath.Join(cfgHome, "ast", "config.yaml")
	if f := getenv("AST_CONFIG"); f != "" {
		if p.ConfigFile, err = filepath.Abs(f); err != nil {
			return p, err
		}
	}
	p.ConfigDir = filepath.Dir(p.ConfigFile)
	data, err := xdg("XDG_DATA_HOME", ".local/share")
	if err != nil {
		return p, err
	}
	state, err := xdg("XDG_STATE_HOME", ".local/state")
	if err != nil {
		return p, err
	}
	p.DataDir, p.StateDir = filepath.Join(data, "ast"), filepath.Join(state, "ast")
	return p, nil
}

// Account is a named vault on one backend.
type Account struct {
	Name     string            `yaml:"-"`
	Backend  string            `yaml:"backend" mapstructure:"backend"`
	Settings map[string]string `yaml:"settings,omitempty" mapstructure:"settings"`
}

// Plugin pins a third-party backend plugin to an executable, optionally by checksum.
type Plugin struct {
	Path   string `yaml:"path" mapstructure:"path"`
	SHA256 string `yaml:"sha256,omitempty" mapstructure:"sha256"`
}

// MarshalYAML writes the checksum double-quoted: a checksum of digits only would read back
// as a number.
func (p Plugin) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key, value string, style yaml.Style) {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: style})
	}
	add("path", p.Path, 0)
	if p.SHA256 != "" {
		add("sha256", p.SHA256, yaml.DoubleQuotedStyle)
	}
	return n, nil
}

// Target is a named place where agents run, other than this machine: a type (its plugin
// is ast-target-TYPE) and that plugin's settings.
type Target struct {
	Name     string            `yaml:"-"`
	Type     string            `yaml:"type" mapstructure:"type"`
	Settings map[string]string `yaml:"settings,omitempty" mapstructure:"settings"`
}

// TargetLocal is the built-in target: a detached process on this machine. It needs no
// entry in the config and cannot be redefined.
const TargetLocal = "local"

// Config is the content of the config file.
type Config struct {
	ActiveAccount string             `yaml:"active_account,omitempty" mapstructure:"active_account"`
	Accounts      map[string]Account `yaml:"accounts,omitempty" mapstructure:"accounts"`
	Targets       map[string]Target  `yaml:"targets,omitempty" mapstructure:"targets"`
	Plugins       map[string]Plugin  `yaml:"plugins,omitempty" mapstructure:"plugins"`

	path string
}

// ValidateAccountName checks an account name: [a-z0-9][a-z0-9_-]*, at most 64 bytes.
// Lowercase only, because account names become file names, Vault paths and AWS secret
// name parts, some of which fold case.
func ValidateAccountName(name string) error {
	if !pluginsdk.ValidAccount(name) {
		return fmt.Errorf("invalid account name %q: an account name is 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// ValidateBackendName checks a backend name, which follows the account name rule and
// becomes part of a plugin executable name (ast-plugin-NAME).
func ValidateBackendName(name string) error {
	if !pluginsdk.ValidAccount(name) {
		return fmt.Errorf("invalid backend name %q: a backend name is 1 to 64 lowercase letters, digits, '-' or '_'", name)
	}
	return nil
}

// Load reads the config file at path. A missing file is an empty config (the implicit
// default account); a malformed one is an error that names the file and the line of the
// problem (see syntaxProblem and structureProblem).
//
// The file and its directory must pass fsperm's rule (owned by the user or root, not
// writable by group or others): otherwise the error names the path and the chmod or
// chown that fixes it. The file may be a symbolic link (a dotfiles checkout); what is
// opened is judged on its descriptor. A file over MaxFileBytes is an error.
func Load(path string) (*Config, error) {
	c := &Config{path: path}
	if err := fsperm.CheckDirs(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("config directory: %w", err)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	defer f.Close()
	if err := fsperm.CheckFile(f, fsperm.File); err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	if len(raw) > MaxFileBytes {
		return nil, fmt.Errorf("config file %s is larger than %d MiB: it is not an ast config file", path, MaxFileBytes>>20)
	}
	v := viper.NewWithOptions(viper.KeyDelimiter("::"))
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, malformed(path, "%v", syntaxProblem(raw, unwrapAll(err)))
	}
	if err := v.UnmarshalExact(c); err != nil {
		// mapstructure's errors name no line; a strict YAML decoding finds the same
		// problems with their lines.
		if problem := structureProblem(raw); problem != nil {
			err = problem
		}
		return nil, malformed(path, "%v", err)
	}
	// viper folds keys to lower case and drops empty mappings; the file's own keys are
	// checked so that "Prod:" or "prod: {}" is an error, not a silent change.
	var top struct {
		Accounts yaml.Node `yaml:"accounts"`
	}
	if yaml.Unmarshal(raw, &top) == nil && top.Accounts.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(top.Accounts.Content); i += 2 {
			key := top.Accounts.Content[i]
			name := key.Value
			if err := ValidateAccountName(name); err != nil {
				return nil, malformed(path, "line %d: %v", key.Line, err)
			}
			if a, ok := c.Accounts[name]; !ok || a.Backend == "" {
				return nil, malformed(path, "line %d: account %s has no backend (add backend: local, hashicorp, awssm or a plugin's name)", key.Line, name)
			}
		}
	}
	for name, a := range c.Accounts {
		if err := ValidateAccountName(name); err != nil {
			return nil, malformed(path, "%v", err)
		}
		if err := ValidateBackendName(a.Backend); err != nil {
			return nil, malformed(path, "account %s: %v", name, err)
		}
		a.Name = name
		c.Accounts[name] = a
	}
	for name, t := range c.Targets {
		if err := ValidateTargetName(name); err != nil {
			return nil, malformed(path, "%v", err)
		}
		if err := ValidateBackendName(t.Type); err != nil {
			return nil, malformed(path, "target %s: invalid type: %v", name, err)
		}
		t.Name = name
		c.Targets[name] = t
	}
	return c, nil
}

// malformed is the error of a config file that Load cannot use: "config file PATH: PROBLEM"
// and, on the next line, how to get out of it. ast never rewrites a file it cannot read
// (account add and use re-read it first, and stop), so the fix is the user's: edit the
// line named, or move the file away, which leaves the default account (the accounts' entries
// stay in their backends, and return with the file).
func malformed(path string, format string, args ...any) error {
	return fmt.Errorf("config file %s: %s\nast does not change a config file it cannot read: fix it in an editor, "+
		"or move it away (mv %s %s.broken) to start again from the default account "+
		"(the entries of its accounts stay in their backends)", path, fmt.Sprintf(format, args...), shellWord(path), shellWord(path))
}

// shellWord quotes p for a POSIX shell when it holds anything but [A-Za-z0-9_./@%+=:,-].
func shellWord(p string) string {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./@%+=:,-", r)) {
			return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	return p
}

// ValidateTargetName checks a target name: the account-name rule, and not "local" (the
// built-in target).
func ValidateTargetName(name string) error {
	if !pluginsdk.ValidAccount(name) {
		return fmt.Errorf("invalid target name %q: a target name is 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	if name == TargetLocal {
		return fmt.Errorf("target %q is built in (this machine) and cannot be configured", name)
	}
	return nil
}

// Target returns the named target from the config. The error for an unknown one lists
// the known ones.
func (c *Config) Target(name string) (Target, error) {
	if t, ok := c.Targets[name]; ok {
		return t, nil
	}
	names := append([]string{TargetLocal}, c.TargetNames()...)
	return Target{}, fmt.Errorf("unknown target %q (targets: %s); add it with: ast target add %s --type kubernetes",
		name, strings.Join(names, ", "), name)
}

// TargetNames returns the configured targets' names, sorted (local not included).
func (c *Config) TargetNames() []string {
	names := make([]string, 0, len(c.Targets))
	for n := range c.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AddTarget adds t; a target of that name must not exist yet.
func (c *Config) AddTarget(t Target) error {
	if err := ValidateTargetName(t.Name); err != nil {
		return err
	}
	if err := ValidateBackendName(t.Type); err != nil {
		return fmt.Errorf("invalid target type %q: a type is 1 to 64 lowercase letters, digits, '-' or '_'", t.Type)
	}
	if _, ok := c.Targets[t.Name]; ok {
		return fmt.Errorf("target %q already exists", t.Name)
	}
	if c.Targets == nil {
		c.Targets = map[string]Target{}
	}
	c.Targets[t.Name] = t
	return nil
}

// RemoveTarget removes the named target; it must exist.
func (c *Config) RemoveTarget(name string) error {
	if _, err := c.Target(name); err != nil {
		return err
	}
	delete(c.Targets, name)
	return nil
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// Path is the file the config was loaded from and is saved to.
func (c *Config) Path() string { return c.path }

// Account returns the named account. The default account exists even when the file does
// not define it. The error for an unknown account lists the known ones.
func (c *Config) Account(name string) (Account, error) {
	if a, ok := c.Accounts[name]; ok {
		return a, nil
	}
	if name == DefaultAccount {
		return Account{Name: DefaultAccount, Backend: DefaultBackend}, nil
	}
	return Account{}, fmt.Errorf("unknown account %q (accounts: %s); add it with: ast account add %s --backend BACKEND",
		name, strings.Join(c.AccountNames(), ", "), name)
}

// AccountNames returns every account name, the implicit default included, sorted.
func (c *Config) AccountNames() []string {
	names := []string{}
	seen := map[string]bool{}
	for n := range c.Accounts {
		names, seen[n] = append(names, n), true
	}
	if !seen[DefaultAccount] {
		names = append(names, DefaultAccount)
	}
	sort.Strings(names)
	return names
}

// Active returns the name of the account a command uses: flag (--account), else env
// (AST_ACCOUNT), else the config's active_account, else "default".
func (c *Config) Active(flag, env string) string {
	switch {
	case flag != "":
		return flag
	case env != "":
		return env
	case c.ActiveAccount != "":
		return c.ActiveAccount
	}
	return DefaultAccount
}

// AddAccount adds a. An account of that name must not exist yet (the implicit default
// counts as absent, so it can be redefined once), and its location must not overlap
// another account's (see CheckLocation).
func (c *Config) AddAccount(a Account) error {
	if err := ValidateAccountName(a.Name); err != nil {
		return err
	}
	if err := ValidateBackendName(a.Backend); err != nil {
		return err
	}
	if _, ok := c.Accounts[a.Name]; ok {
		return fmt.Errorf("account %q already exists", a.Name)
	}
	if err := c.CheckLocation(a); err != nil {
		return err
	}
	if c.Accounts == nil {
		c.Accounts = map[string]Account{}
	}
	c.Accounts[a.Name] = a
	return nil
}

// PinPlugin sets backend's entry of the plugins: section (ast plugin pin).
func (c *Config) PinPlugin(backend string, pin Plugin) {
	if c.Plugins == nil {
		c.Plugins = map[string]Plugin{}
	}
	c.Plugins[backend] = pin
}

// Use makes name the active account; it must exist.
func (c *Config) Use(name string) error {
	if _, err := c.Account(name); err != nil {
		return err
	}
	c.ActiveAccount = name
	return nil
}

// MaxFileBytes is the largest config file Load reads: 1 MiB, thousands of accounts.
const MaxFileBytes = 1 << 20

// Save writes the config file atomically (0600, directory 0700): a temp file created
// with O_EXCL and given its mode on the descriptor, fsync, rename, fsync of the
// directory. A crash leaves the old file or the new one, never a torn one. Save alone
// does not guard against a concurrent change: commands change the config with Update.
func (c *Config) Save() error {
	out, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.path)
	if err := fsperm.EnsureDir(dir, nil); err != nil {
		return fmt.Errorf("config directory: %w", err)
	}
	pending, err := renameio.NewPendingFile(c.path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(fsperm.FileMode))
	if err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	defer pending.Cleanup()
	if _, err := pending.Write(out); err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	if err := pending.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	return nil
}

// LockTimeout bounds Update's wait for another command's change of the config.
const LockTimeout = 30 * time.Second

// Update changes the config file at path as one step that no concurrent Update can
// interleave with: it takes an flock(2) lock on PATH.lock (opened without following
// links, mode 0600), loads the file afresh, calls mutate, and saves the result
// atomically if mutate returns nil. N concurrent `account add` commands thus save N
// accounts. mutate's error is returned as it is and nothing is written.
//
// Errors: those of Load and Save; the lock is held by another command for LockTimeout
// (the error names the lock file).
func Update(path string, mutate func(*Config) error) error {
	if err := fsperm.EnsureDir(filepath.Dir(path), nil); err != nil {
		return fmt.Errorf("config directory: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), LockTimeout)
	defer cancel()
	lock := path + ".lock"
	unlock, err := fsperm.LockPath(ctx, lock)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("another ast command is changing the config (lock %s held for %v)", lock, LockTimeout)
		}
		return fmt.Errorf("locking the config file: %w", err)
	}
	defer unlock()
	c, err := Load(path)
	if err != nil {
		return err
	}
	if err := mutate(c); err != nil {
		return err
	}
	return c.Save()
}
