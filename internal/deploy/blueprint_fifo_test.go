//go:build unix

package deploy

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO planted as a repository's blueprints/AGENT.yaml (or swapped in after Find's
// stat) must be refused at once: open(2) of a FIFO without a writer blocks in the kernel,
// where neither Ctrl-C nor SIGTERM reaches the command.
func TestReadFileRefusesFIFOWithoutBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bot.yaml")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadFile("bot", p, "/")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("ReadFile of a FIFO: %v; want a not-a-regular-file error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile of a FIFO blocked for 5 s")
	}
}
