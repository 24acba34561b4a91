package pluginsdk

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/ast-cli/ast/pluginsdk/internal/backendv1"
)

// TestDisableCoreDumps runs disableCoreDumps in a child process: the child is no longer
// dumpable, its core size limits are what it inherited, and what it executes is
// dumpable again with the same limits (exec resets the flag).
func TestDisableCoreDumps(t *testing.T) {
	if os.Getenv("AST_SDK_TEST_DUMPABLE") == "child" {
		var before, after unix.Rlimit
		_ = unix.Getrlimit(unix.RLIMIT_CORE, &before)
		disableCoreDumps()
		_ = unix.Getrlimit(unix.RLIMIT_CORE, &after)
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		out, _ := exec.Command("/bin/sh", "-c", "grep 'Max core' /proc/self/limits").Output()
		fmt.Printf("dumpable=%d err=%v same_limit=%t child_limits=%s", d, err, before == after, strings.Join(strings.Fields(string(out)), " "))
		os.Exit(0)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDisableCoreDumps$")
	cmd.Env = append(os.Environ(), "AST_SDK_TEST_DUMPABLE=child")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "dumpable=0 err=<nil> same_limit=true ") {
		t.Errorf("after disableCoreDumps: %s; want not dumpable, with the inherited core limit", out)
	}
	if want := fmt.Sprintf("Max core file size %s %s", limText(lim.Cur), limText(lim.Max)); !strings.Contains(string(out), want) {
		t.Errorf("the child's child: %s; want %q", out, want)
	}
}

func limText(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

// TestConfigureOnce: the first Configure passes, whatever its outcome; every later one is
// refused with FailedPrecondition, also when they race; other calls pass.
func TestConfigureOnce(t *testing.T) {
	configure := &grpc.UnaryServerInfo{FullMethod: pb.Backend_Configure_FullMethodName}
	list := &grpc.UnaryServerInfo{FullMethod: pb.Backend_List_FullMethodName}
	failing := func(context.Context, any) (any, error) {
		return nil, status.Error(codes.InvalidArgument, "bad setting")
	}
	ok := func(context.Context, any) (any, error) { return "ok", nil }

	once := configureOnce(pb.Backend_Configure_FullMethodName)
	if _, err := once(context.Background(), nil, configure, failing); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("first Configure: %v, want the backend's own error", err)
	}
	if _, err := once(context.Background(), nil, configure, ok); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second Configure after a failed first: %v, want FailedPrecondition", err)
	}
	if _, err := once(context.Background(), nil, list, ok); err != nil {
		t.Errorf("List: %v", err)
	}

	once = configureOnce(pb.Backend_Configure_FullMethodName)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := once(context.Background(), nil, configure, ok)
			if err == nil {
				passed.Add(1)
			} else if status.Code(err) != codes.FailedPrecondition {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 1 {
		t.Errorf("%d of 32 concurrent Configure calls passed, want 1", passed.Load())
	}
}
