package host

import (
	"os/exec"
	"syscall"
)

// setParentDeath asks the kernel to kill the plugin when ast dies, even by SIGKILL.
// pluginsdk.Serve arms the same signal from inside; this covers plugins built otherwise.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
