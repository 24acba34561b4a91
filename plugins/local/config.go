package local

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// Settings of the local backend, as `ast account add NAME --backend local --set KEY=VALUE`
// passes them.
const (
	// SettingDir is the data directory; the default is $XDG_DATA_HOME/ast, else
	// $HOME/.local/share/ast (DESIGN.md: "Data: $XDG_DATA_HOME/ast").
	SettingDir = "dir"
	// SettingKeyFile is the age identity file; the default is DIR/keys/local.key.
	SettingKeyFile = "key_file"
)

// paths are the files of one account, resolved by Configure.
type paths struct {
	account string
	dir     string // the data directory
	vaults  string // DIR/vaults: one store and one lock file per account
	store   string // DIR/vaults/ACCOUNT.age
	lock    string // DIR/vaults/ACCOUNT.lock
	keyFile string // DIR/keys/local.key unless key_file says otherwise
}

// resolvePaths turns an account name, its settings and the environment (getenv) into the
// account's paths. It does no I/O.
//
// The data directory is the dir setting, else $XDG_DATA_HOME/ast, else
// $HOME/.local/share/ast. A relative $XDG_DATA_HOME is ignored, as the XDG Base Directory
// specification asks. Settings may start with ~/ for $HOME and must otherwise be absolute
// paths: the plugin runs in the user's working directory, where a relative path would
// name a different store from one command to the next.
//
// Errors: ErrInvalidArgument for a malformed account name, an unknown setting or a
// relative path; ErrFailedPrecondition when no directory can be found (no HOME).
func resolvePaths(account string, settings map[string]string, getenv func(string) string) (paths, error) {
	if !pluginsdk.ValidAccount(account) {
		return paths{}, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"invalid account name %q: an account name is 1 to 64 lowercase letters, digits, '_' or '-', starting with a letter or digit", account)
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if k != SettingDir && k != SettingKeyFile {
			return paths{}, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"unknown setting %q for the local backend: the settings are %q and %q", k, SettingDir, SettingKeyFile)
		}
	}

	home := getenv("HOME")
	dir, err := settingPath(SettingDir, settings[SettingDir], home)
	if err != nil {
		return paths{}, err
	}
	if dir == "" {
		if xdg := getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
			dir = filepath.Join(xdg, "ast")
		} else if filepath.IsAbs(home) {
			dir = filepath.Join(home, ".local", "share", "ast")
		} else {
			return paths{}, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
				"the local backend cannot find its data directory: set HOME or XDG_DATA_HOME, or the account's %q setting", SettingDir)
		}
	}
	keyFile, err := settingPath(SettingKeyFile, settings[SettingKeyFile], home)
	if err != nil {
		return paths{}, err
	}
	if keyFile == "" {
		keyFile = filepath.Join(dir, "keys", "local.key")
	}

	vaults := filepath.Join(dir, "vaults")
	return paths{
		account: account,
		dir:     dir,
		vaults:  vaults,
		store:   filepath.Join(vaults, account+".age"),
		lock:    filepath.Join(vaults, account+".lock"),
		keyFile: keyFile,
	}, nil
}

// settingPath checks a path setting: "" (unset) stays "", a leading ~/ is $HOME, and the
// result must be absolute.
func settingPath(key, value, home string) (string, error) {
	if value == "" {
		return "", nil
	}
	if value == "~" || strings.HasPrefix(value, "~/") {
		if !filepath.IsAbs(home) {
			return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"setting %q is %q but HOME is not set: use an absolute path", key, value)
		}
		value = filepath.Join(home, strings.TrimPrefix(value, "~"))
	}
	if !filepath.IsAbs(value) {
		return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"setting %q is %q: it must be an absolute path (or start with ~/)", key, value)
	}
	return filepath.Clean(value), nil
}
