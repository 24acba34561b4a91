package kubernetes

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ast-cli/ast/pluginsdk"
)

// checkKubeconfig applies the plugin rules of ast's trust model to a kubeconfig, which can
// run commands (exec credential plugins) and names the cluster ast trusts with values: an
// absolute path; the file and its directory owned by the user or root and not writable by
// group or others. Errors are ErrInvalidArgument (not absolute) or ErrPermissionDenied, and
// name the path and the fix.
func checkKubeconfig(path string) error {
	if !filepath.IsAbs(path) {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "kubeconfig %q is not an absolute path (a kubeconfig can run commands: give its full path)", path)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p == path {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "kubeconfig %s does not exist (give the target the absolute path of yours with --set kubeconfig=PATH, or set $KUBECONFIG)", path)
		}
		if err != nil {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "kubeconfig %s: %v", path, err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if ok && int(sys.Uid) != os.Getuid() && sys.Uid != 0 {
			return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "refusing kubeconfig %s: %s belongs to user id %d, neither you nor root (a kubeconfig can run commands)", path, p, sys.Uid)
		}
		if st.Mode()&0o022 != 0 && !(p != path && st.Mode()&os.ModeSticky != 0) {
			return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "refusing kubeconfig %s: %s is writable by group or others (chmod go-w %s)", path, p, p)
		}
	}
	return nil
}
