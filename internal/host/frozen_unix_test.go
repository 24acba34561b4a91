//go:build unix

package host

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestFrozenPluginIsKilled: a plugin that does not answer the shutdown request (here,
// stopped with SIGSTOP) is killed by Close within closeGrace.
func TestFrozenPluginIsKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc and SIGSTOP")
	}
	pidDir := setFault(t, "ok")
	p, err := Start(context.Background(), faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pids := pidsIn(t, pidDir)
	if len(pids) != 1 {
		t.Fatalf("pids %v", pids)
	}
	proc, _ := os.FindProcess(pids[0])
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	p.Close()
	if took := time.Since(began); took > closeGrace+time.Second {
		t.Errorf("Close took %s", took)
	}
	assertGone(t, pidDir, 1)
}
