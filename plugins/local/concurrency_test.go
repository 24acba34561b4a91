package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// The multi-process test re-executes this test binary as writer processes: with
// writerEnv set, TestMain runs writerMain instead of the tests.
const (
	writerEnv     = "AST_LOCAL_TEST_WRITER" // the writer's number
	writerDirEnv  = "AST_LOCAL_TEST_DIR"
	writerNEnv    = "AST_LOCAL_TEST_CREATES"
	writerAccount = "shared"
)

func TestMain(m *testing.M) {
	if id := os.Getenv(writerEnv); id != "" {
		os.Exit(writerMain(id))
	}
	os.Exit(m.Run())
}

// writerMain creates AST_LOCAL_TEST_CREATES entries W<id>_<i>, one Put each, in the
// account "shared" of AST_LOCAL_TEST_DIR, and reports failures on stderr (names only).
func writerMain(id string) int {
	n, err := strconv.Atoi(os.Getenv(writerNEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", writerNEnv)
		return 2
	}
	b := New()
	if err := b.Configure(context.Background(), writerAccount, map[string]string{SettingDir: os.Getenv(writerDirEnv)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range n {
		name := fmt.Sprintf("W%s_%d", id, i)
		res, err := b.Put(context.Background(), []pluginsdk.Entry{secret(name, 0)}, pluginsdk.Create)
		if err == nil {
			err = res[0].Err
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "create %s: %v\n", name, err)
			return 1
		}
	}
	return 0
}

// TestConcurrentProcesses runs 8 processes that each create 25 distinct names in one
// account at the same time: the lock serialises their read-modify-writes, so all 200
// entries are there at the end.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes")
	}
	const procs, creates = 8, 25
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, procs)
	out := make([][]byte, procs)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+strconv.Itoa(i), writerDirEnv+"="+dir, writerNEnv+"="+strconv.Itoa(creates))
		wg.Go(func() { out[i], errs[i] = cmd.CombinedOutput() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, out[i])
		}
	}
	names := listNames(t, newBackend(t, dir, writerAccount))
	if len(names) != procs*creates {
		t.Fatalf("%d entries after %d processes created %d each, want %d", len(names), procs, creates, procs*creates)
	}
	for i := range procs {
		for j := range creates {
			want := fmt.Sprintf("W%d_%d", i, j)
			if !slices.Contains(names, want) {
				t.Errorf("entry %s is missing", want)
			}
		}
	}
}

// TestConcurrentBackends runs writers in one process, each with its own Backend (its own
// lock handle, as separate processes have), creating distinct names: nothing is lost.
func TestConcurrentBackends(t *testing.T) {
	const writers, creates = 16, 10
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, writers*creates)
	for w := range writers {
		b := newBackend(t, dir, "default")
		wg.Go(func() {
			for i := range creates {
				name := fmt.Sprintf("W%d_%d", w, i)
				res, err := b.Put(context.Background(), []pluginsdk.Entry{secret(name, 0)}, pluginsdk.Create)
				if err == nil {
					err = res[0].Err
				}
				if err != nil {
					errs <- fmt.Errorf("create %s: %w", name, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(listNames(t, newBackend(t, dir, "default"))); n != writers*creates {
		t.Errorf("%d entries, want %d", n, writers*creates)
	}
}

// TestCreateContention has many Backends create the same name at once: exactly one wins,
// every other gets ErrAlreadyExists.
func TestCreateContention(t *testing.T) {
	const writers = 16
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]error, writers)
	backends := make([]*Backend, writers)
	for w := range writers {
		backends[w] = newBackend(t, dir, "default")
	}
	for w := range writers {
		wg.Go(func() {
			res, err := backends[w].Put(context.Background(), []pluginsdk.Entry{secret("SAME", w)}, pluginsdk.Create)
			if err == nil {
				err = res[0].Err
			}
			results[w] = err
		})
	}
	wg.Wait()
	wins := 0
	for w, err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, pluginsdk.ErrAlreadyExists):
			t.Errorf("writer %d: %v, want success or ErrAlreadyExists", w, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d writers created SAME, want exactly 1", wins)
	}
}

// TestConcurrentFirstWrites has the first writes of many accounts race in an empty
// directory: they must agree on one key, so that every store opens afterwards.
func TestConcurrentFirstWrites(t *testing.T) {
	const accounts = 12
	dir := t.TempDir()
	var wg sync.WaitGroup
	for a := range accounts {
		b := newBackend(t, dir, fmt.Sprintf("acct%d", a))
		wg.Go(func() {
			res, err := b.Put(context.Background(), []pluginsdk.Entry{secret("A", 0)}, pluginsdk.Create)
			if err == nil {
				err = res[0].Err
			}
			if err != nil {
				t.Errorf("account %d: %v", a, err)
			}
		})
	}
	wg.Wait()
	for a := range accounts {
		if names := listNames(t, newBackend(t, dir, fmt.Sprintf("acct%d", a))); len(names) != 1 {
			t.Errorf("account %d lists %v", a, names)
		}
	}
}

// TestConcurrentCallsOneBackend shares one Backend between goroutines, as the gRPC server
// does: reads and writes interleave and nothing is lost.
func TestConcurrentCallsOneBackend(t *testing.T) {
	const writers, creates = 8, 10
	b := newBackend(t, t.TempDir(), "default")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range creates {
				name := fmt.Sprintf("W%d_%d", w, i)
				res, err := b.Put(context.Background(), []pluginsdk.Entry{secret(name, 0)}, pluginsdk.Upsert)
				if err == nil {
					err = res[0].Err
				}
				if err != nil {
					t.Errorf("upsert %s: %v", name, err)
				}
				if _, err := b.List(context.Background(), pluginsdk.ListOptions{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(listNames(t, b)); n != writers*creates {
		t.Errorf("%d entries, want %d", n, writers*creates)
	}
}
