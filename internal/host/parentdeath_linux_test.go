package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// TestPluginWatchesItsParent: pluginsdk.Serve alone, without the parent-death signal the
// host sets, stops a plugin whose parent dies (here the parent is a shell, killed with
// SIGKILL), and stops at once a plugin whose host died before it started watching.
func TestPluginWatchesItsParent(t *testing.T) {
	cases := []struct {
		name string
		// parentEnv is the shell's ParentPIDEnv assignment for the plugin.
		parentEnv string
		// orphan: the plugin must exit by itself before the shell is killed.
		orphan bool
	}{
		{name: "the parent dies", parentEnv: pluginsdk.ParentPIDEnv + "=$$"},
		{name: "a host other than ast dies", parentEnv: ""},
		{name: "the host was gone before the plugin started", parentEnv: pluginsdk.ParentPIDEnv + "=1", orphan: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pidDir := setFault(t, "ok")
			// The shell starts the plugin as ast would (the magic cookie, stdout to a file)
			// and waits; it sets no parent-death signal.
			sh := exec.Command("/bin/sh", "-c", c.parentEnv+` "$0" >"$1" 2>&1 & wait`, faultBin, filepath.Join(t.TempDir(), "out"))
			sh.Env = append(os.Environ(), pluginsdk.Handshake.MagicCookieKey+"="+pluginsdk.Handshake.MagicCookieValue)
			if err := sh.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = sh.Process.Kill(); _ = sh.Wait() }()
			var pid int
			deadline := time.Now().Add(30 * time.Second)
			for pid == 0 {
				if pids := pidsIn(t, pidDir); len(pids) == 1 {
					pid = pids[0]
				} else if time.Now().After(deadline) {
					t.Fatal("the plugin did not start")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if c.orphan {
				assertGone(t, pidDir, 1)
				return
			}
			time.Sleep(300 * time.Millisecond) // past the plugin's start
			if !running(pid) {
				t.Fatal("the plugin stopped while its parent lives")
			}
			if err := sh.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = sh.Wait()
			assertGone(t, pidDir, 1)
		})
	}
}
