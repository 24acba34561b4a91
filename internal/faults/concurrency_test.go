package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWriters runs 16 writers, each creating 50 distinct names one ast process
// at a time, against one account of each backend: exactly 800 entries must be listed, no
// more, no fewer. -short runs 16 × 10.
func TestConcurrentWriters(t *testing.T) {
	// Parallel with TestBackendDown, whose waits leave the CPU to these writers. The
	// backends take turns: at once, the local backend's writers convoy on its lock.
	t.Parallel()
	writers, perWriter := 16, 50
	if testing.Short() {
		perWriter = 10
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newSandbox(t)
			b.setup(t, s, "conc")
			start := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []string
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWriter; i++ {
						name := fmt.Sprintf("W%02d_%03d", w, i)
						r := s.run("secrets", "create", name, "--value", "v-"+name)
						if r.code != 0 {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%s: exit %d: %s", name, r.code, strings.TrimSpace(r.stderr)))
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			for _, f := range failures {
				t.Errorf("create %s", f)
			}
			got := names(s.list())
			want := writers * perWriter
			missing := 0
			for w := 0; w < writers; w++ {
				for i := 0; i < perWriter; i++ {
					if !got[fmt.Sprintf("W%02d_%03d", w, i)] {
						missing++
					}
				}
			}
			if len(got) != want || missing != 0 {
				t.Errorf("listed %d entries, %d of the %d created are missing", len(got), missing, want)
			}
			s.assertNoStrays("after the writers")
			t.Logf("concurrency summary: backend=%s writers=%d creates=%d failed=%d listed=%d missing=%d duration=%s (%.1f creates/s)",
				b.name, writers, want, len(failures), len(got), missing, elapsed.Round(time.Millisecond), float64(want)/elapsed.Seconds())
		})
	}
}

// TestSameNameContention starts 16 processes that create the same name at once: exactly
// one wins, the 15 others exit 1 saying the name already exists.
func TestSameNameContention(t *testing.T) {
	const procs = 16
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newSandbox(t)
			b.setup(t, s, "race")
			rounds := 3
			if testing.Short() {
				rounds = 1
			}
			for round := 0; round < rounds; round++ {
				name := fmt.Sprintf("SAME_%d", round)
				results := make([]result, procs)
				var wg sync.WaitGroup
				gate := make(chan struct{})
				for p := 0; p < procs; p++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-gate
						results[p] = s.runIn(fmt.Sprintf("value-%d\n", p), "secrets", "create", name)
					}()
				}
				close(gate)
				wg.Wait()
				wins, exists := 0, 0
				for _, r := range results {
					switch {
					case r.code == 0:
						wins++
					case r.code == 1 && strings.Contains(r.stderr, "already exists"):
						exists++
					default:
						t.Errorf("round %d: unexpected outcome:\n%s", round, r)
					}
				}
				if wins != 1 || exists != procs-1 {
					t.Errorf("round %d: %d won and %d were told the name exists; want 1 and %d", round, wins, exists, procs-1)
				}
				es := s.list()
				if n := len(es); n != round+1 {
					t.Errorf("round %d: %d entries listed, want %d", round, n, round+1)
				}
				for _, e := range es {
					if e.Name == name && e.Version != 1 {
						t.Errorf("round %d: %s has version %d, want 1 (one write)", round, name, e.Version)
					}
				}
				t.Logf("contention summary: backend=%s round=%d processes=%d winners=%d already_exists=%d", b.name, round, procs, wins, exists)
			}
			s.assertNoStrays("after the contention")
		})
	}
}
