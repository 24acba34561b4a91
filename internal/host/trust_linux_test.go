package host

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/pluginsdk"
)

// The attacker of these tests is another local user: uid/gid 65534 (nobody), which root
// can become without creating users.
const attackerID = 65534

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the attacker as another user")
	}
}

// asAttacker makes cmd run as the attacker.
func asAttacker(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: attackerID, Gid: attackerID}}
	return cmd
}

// publicDir returns a fresh directory under the system's temporary directory that every
// user can enter (0755, root's), removed at the end of the test.
func publicDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ast-host-trust-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func mkdir(t *testing.T, p string, mode os.FileMode, uid int) string {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeScript(t *testing.T, p, body string, uid int) string {
	t.Helper()
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
	return p
}

// attackerMain is the attacker's side of TestSocketRefusesOtherUsers, run by the test
// binary as uid 65534: it tries AST_HOST_TEST_TRIES times to connect to the plugin socket
// AST_HOST_TEST_SOCKET and call Configure, and prints what became of the tries.
func attackerMain() int {
	if os.Getenv(attackerEnv) == "listen" {
		// A socket of the attacker's own, where ast might be led to connect.
		l, err := net.Listen("unix", os.Getenv("AST_HOST_TEST_SOCKET"))
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("listening")
		for {
			c, err := l.Accept()
			if err != nil {
				return 1
			}
			c.Close()
		}
	}
	sock := os.Getenv("AST_HOST_TEST_SOCKET")
	tries, _ := strconv.Atoi(os.Getenv("AST_HOST_TEST_TRIES"))
	var connectRefused, callRefused, accepted int
	for i := 0; i < tries; i++ {
		conn, err := net.DialTimeout("unix", sock, time.Second)
		if err != nil {
			connectRefused++
			continue
		}
		used := false
		cc, err := grpc.NewClient("passthrough:///plugin", grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) {
				if used {
					return nil, fmt.Errorf("one connection per try")
				}
				used = true
				return conn, nil
			}))
		if err != nil {
			conn.Close()
			callRefused++
			continue
		}
		raw, _ := (&pluginsdk.GRPCPlugin{}).GRPCClient(context.Background(), nil, cc)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = raw.(pluginsdk.Backend).Configure(ctx, "stolen", map[string]string{"address": "http://attacker"})
		cancel()
		cc.Close()
		if err != nil {
			callRefused++
		} else {
			accepted++
		}
	}
	fmt.Printf("connect_refused=%d call_refused=%d accepted=%d\n", connectRefused, callRefused, accepted)
	return 0
}

// attackerBinary copies the test binary where the attacker can execute it.
func attackerBinary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := filepath.Join(dir, "attacker.test")
	dst, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// socketOf returns the path of the plugin's Unix socket: the one entry of its socket
// directory.
func socketOf(t *testing.T, p *Plugin) string {
	t.Helper()
	ents, err := os.ReadDir(p.socketDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Type()&os.ModeSocket == 0 {
		t.Fatalf("the socket directory holds %v, want one socket", ents)
	}
	return filepath.Join(p.socketDir, ents[0].Name())
}

// TestSocketDirectory: the plugin's socket sits in a fresh 0700 directory of the user in
// $TMPDIR, and nothing of it is left in $TMPDIR after the plugin stops, whether it
// started or failed to.
func TestSocketDirectory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, mode := range []string{"ok", "exit", "garbage", "ok"} {
		setFault(t, mode)
		p, err := Start(context.Background(), faultLocation(faultBin), Options{StartTimeout: 5 * time.Second})
		if mode != "ok" {
			if err == nil {
				p.Close()
				t.Fatalf("%s: Start succeeded", mode)
			}
		} else {
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Lstat(p.socketDir)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(p.socketDir) != tmp || !st.IsDir() || st.Mode().Perm() != 0o700 || st.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
				t.Errorf("socket directory %s: %v, uid %d; want a 0700 directory of uid %d in %s",
					p.socketDir, st.Mode(), st.Sys().(*syscall.Stat_t).Uid, os.Geteuid(), tmp)
			}
			socketOf(t, p)
			p.Close()
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Errorf("after a %s plugin stopped, $TMPDIR holds %d entries (%s...), want none", mode, len(ents), ents[0].Name())
		}
	}
}

// TestConfigureOnce: a plugin takes one Configure per process; a second one, of the host
// itself, is refused with FailedPrecondition.
func TestConfigureOnce(t *testing.T) {
	setFault(t, "ok")
	p, err := Start(context.Background(), faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	if err := p.Configure(ctx, "default", nil); err != nil {
		t.Fatalf("first Configure: %v", err)
	}
	for i := 0; i < 3; i++ {
		err := p.Configure(ctx, "other", nil)
		if pluginsdk.CodeOf(err) != codes.FailedPrecondition {
			t.Errorf("Configure number %d: got %v, want FailedPrecondition", i+2, err)
		}
	}
	if _, err := p.List(ctx, pluginsdk.ListOptions{}); err != nil {
		t.Errorf("List after the refused Configure calls: %v", err)
	}
}

// TestSocketRefusesOtherUsers: another user cannot call the plugin. As is, its connect is
// refused by the socket directory's mode; with the directory and socket opened to
// everyone (a umask of 000, a shared group), the plugin still closes its connections
// before any call, by their peer credentials. The user's own calls work throughout, and
// the attacker never got to Configure first.
func TestSocketRefusesOtherUsers(t *testing.T) {
	skipUnlessRoot(t)
	const tries = 200
	pub := publicDir(t)
	attacker := attackerBinary(t, pub)
	tmp := mkdir(t, filepath.Join(pub, "tmp"), 0o755, 0)
	t.Setenv("TMPDIR", tmp)
	setFault(t, "ok")
	var stderr lockedBuffer
	p, err := Start(context.Background(), faultLocation(faultBin), Options{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sock := socketOf(t, p)
	attack := func(phase string) (connectRefused, callRefused int) {
		cmd := asAttacker(exec.Command(attacker))
		cmd.Env = []string{attackerEnv + "=connect", "AST_HOST_TEST_SOCKET=" + sock, "AST_HOST_TEST_TRIES=" + strconv.Itoa(tries)}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: the attacker: %v", phase, err)
		}
		var accepted int
		if _, err := fmt.Sscanf(string(out), "connect_refused=%d call_refused=%d accepted=%d", &connectRefused, &callRefused, &accepted); err != nil {
			t.Fatalf("%s: the attacker printed %q", phase, out)
		}
		if accepted != 0 || connectRefused+callRefused != tries {
			t.Errorf("%s: %d of %d tries of another user were accepted", phase, accepted, tries)
		}
		if _, err := p.Info(context.Background()); err != nil {
			t.Errorf("%s: the user's own call failed: %v", phase, err)
		}
		return connectRefused, callRefused
	}
	dirRefused, _ := attack("socket directory 0700")
	if dirRefused != tries {
		t.Errorf("socket directory 0700: %d of %d connects got through the directory", tries-dirRefused, tries)
	}
	// What a umask of 000 or a shared group would have made of it.
	if err := os.Chmod(p.socketDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	connected, peerRefused := attack("socket open to everyone")
	if connected != 0 {
		t.Errorf("socket open to everyone: %d of %d connects failed, want all to connect (and be refused by the plugin)", connected, tries)
	}
	if err := p.Configure(context.Background(), "default", nil); err != nil {
		t.Errorf("the user's first Configure after the attack: %v (did the attacker configure the plugin?)", err)
	}
	if !strings.Contains(stderr.String(), "refused a connection from another user") {
		t.Errorf("the plugin did not warn about the refused connections:\n%s", stderr.String())
	}
	t.Logf("socket attack summary: tries=%d refused_by_directory=%d refused_by_peer_check=%d accepted=0", 2*tries, dirRefused, peerRefused)
}

// raceResult counts the outcomes of one race.
type raceResult struct{ refused, good, evil int }

// race starts the plugin at loc tries times while the attacker runs, and counts what ran.
// The plugins of these tests are scripts that print "good" or "evil".
func race(t *testing.T, loc Location, pin []byte, tries int) raceResult {
	t.Helper()
	var r raceResult
	dir := t.TempDir()
	for i := 0; i < tries; i++ {
		cmd, exe, err := pluginCommand(loc, pin, dir)
		if err != nil {
			r.refused++
			continue
		}
		out, err := cmd.Output()
		exe.Close()
		switch strings.TrimSpace(string(out)) {
		case "good":
			r.good++
		case "evil":
			r.evil++
		default:
			t.Fatalf("try %d: the plugin printed %q (%v)", i, out, err)
		}
	}
	return r
}

// startAttacker runs script as the attacker until the test ends.
func startAttacker(t *testing.T, script string) {
	t.Helper()
	cmd := asAttacker(exec.Command("/bin/sh", "-c", script))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	time.Sleep(20 * time.Millisecond)
}

const raceTries = 500

// TestRaceSymlinkSwap: the plugin is a link, in the user's own directory, to a link in a
// directory of the attacker, which the attacker keeps pointing at a good root-owned
// plugin and at its own. The old check (stat, then exec by name) let it win; now the walk
// refuses the path, for the attacker's directory, every time.
func TestRaceSymlinkSwap(t *testing.T) {
	skipUnlessRoot(t)
	pub := publicDir(t)
	safe := mkdir(t, filepath.Join(pub, "safe"), 0o755, 0)
	good := writeScript(t, filepath.Join(safe, "good"), "echo good", 0)
	att := mkdir(t, filepath.Join(pub, "att"), 0o755, attackerID)
	evil := writeScript(t, filepath.Join(att, "evil"), "echo evil", attackerID)
	if err := os.Symlink(good, filepath.Join(att, "cur")); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(att, "cur"), attackerID, attackerID); err != nil {
		t.Fatal(err)
	}
	plugins := mkdir(t, filepath.Join(pub, "plugins"), 0o755, 0)
	link := filepath.Join(plugins, "ast-plugin-fault")
	if err := os.Symlink(filepath.Join(att, "cur"), link); err != nil {
		t.Fatal(err)
	}
	startAttacker(t, fmt.Sprintf(`cd %s && while :; do ln -sfn %s n1 && mv -T n1 cur; ln -sfn %s n2 && mv -T n2 cur; done`, att, good, evil))
	r := race(t, faultLocation(link), nil, raceTries)
	if r.evil != 0 || r.good != 0 {
		t.Errorf("symlink swap: %+v, want every try refused", r)
	}
	if err := Verify(faultLocation(link)); err == nil || !strings.Contains(err.Error(), "belongs to user id 65534") {
		t.Errorf("Verify: %v, want a refusal naming the attacker's directory", err)
	}
	t.Logf("symlink swap race summary: tries=%d refused=%d ran_good=%d ran_evil=%d", raceTries, r.refused, r.good, r.evil)
}

// TestRaceAncestorRename: the pinned plugin's directory (root's, safe) sits in a directory
// others can write; the attacker keeps renaming it away and its own directory into its
// place. The old check looked at the file and its directory only; now every ancestor is
// checked, and the writable one refuses the path every time.
func TestRaceAncestorRename(t *testing.T) {
	skipUnlessRoot(t)
	pub := publicDir(t)
	shared := mkdir(t, filepath.Join(pub, "shared"), 0o777, 0)
	sub := mkdir(t, filepath.Join(shared, "sub"), 0o755, 0)
	goodPath := writeScript(t, filepath.Join(sub, "ast-plugin-fault"), "echo good", 0)
	evilDir := mkdir(t, filepath.Join(shared, "evil"), 0o755, attackerID)
	writeScript(t, filepath.Join(evilDir, "ast-plugin-fault"), "echo evil", attackerID)
	startAttacker(t, fmt.Sprintf(`cd %s && while :; do mv -T sub keep && mv -T evil sub && mv -T sub evil && mv -T keep sub; done`, shared))
	r := race(t, faultLocation(goodPath), nil, raceTries)
	if r.evil != 0 || r.good != 0 {
		t.Errorf("ancestor rename: %+v, want every try refused", r)
	}
	t.Logf("ancestor rename race summary: tries=%d refused=%d ran_good=%d ran_evil=%d", raceTries, r.refused, r.good, r.evil)
}

// TestRaceCheckedIsExecuted: a writer the checks cannot refuse (root, in a safe directory)
// swaps a pinned plugin with another file as fast as it can. Whatever file the check
// opened is the one that runs: each try either runs the pinned file or is refused for its
// checksum, never runs the other file.
func TestRaceCheckedIsExecuted(t *testing.T) {
	pub := publicDir(t)
	dir := mkdir(t, filepath.Join(pub, "plugins"), 0o755, os.Geteuid())
	path := writeScript(t, filepath.Join(dir, "ast-plugin-fault"), "echo good", os.Geteuid())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	goodCopy := writeScript(t, filepath.Join(dir, "good"), "echo good", os.Geteuid())
	evil := writeScript(t, filepath.Join(dir, "evil"), "echo evil", os.Geteuid())
	var stop atomic.Bool
	done := make(chan struct{})
	var swaps int
	go func() {
		defer close(done)
		for !stop.Load() {
			for _, src := range []string{evil, goodCopy} {
				tmp := filepath.Join(dir, "next")
				if err := os.Link(src, tmp); err != nil {
					t.Error(err)
					return
				}
				if err := os.Rename(tmp, path); err != nil {
					t.Error(err)
					return
				}
				swaps++
			}
		}
	}()
	r := race(t, faultLocation(path), sum[:], raceTries)
	stop.Store(true)
	<-done
	if r.evil != 0 {
		t.Errorf("checked-is-executed: %+v: a file other than the checked one ran", r)
	}
	if r.refused == 0 || r.good == 0 {
		t.Logf("the swaps did not interleave with the checks both ways: %+v", r)
	}
	t.Logf("checked-is-executed race summary: tries=%d swaps=%d refused_for_checksum=%d ran_pinned=%d ran_other=%d",
		raceTries, swaps, r.refused, r.good, r.evil)
}

// TestScriptPlugin: a #! script plugin runs, executed by descriptor.
func TestScriptPlugin(t *testing.T) {
	setFault(t, "ok")
	dir := t.TempDir()
	script := writeScript(t, filepath.Join(dir, "ast-plugin-fault"), "exec "+faultBin, os.Geteuid())
	p, err := Start(context.Background(), faultLocation(script), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if info := p.Describe(); info.Name != "fault" {
		t.Errorf("Info = %+v", info)
	}
}

// TestPathChecks: what the walk of openChecked refuses and accepts.
func TestPathChecks(t *testing.T) {
	pub := publicDir(t)
	me := os.Geteuid()
	good := copyFault(t, mkdir(t, filepath.Join(pub, "good"), 0o755, me), 0o755)
	cases := []struct {
		name string
		path func(t *testing.T) string
		root bool   // needs root (another owner)
		want string // in the error; "" = accepted
	}{
		{name: "plain", path: func(*testing.T) string { return good }},
		{name: "through .. and .", path: func(*testing.T) string { return filepath.Join(pub, "good", ".", "..", "good", "ast-plugin-fault") }},
		{name: "a directory of mode 0711", path: func(t *testing.T) string {
			return copyFault(t, mkdir(t, filepath.Join(pub, "x711"), 0o711, me), 0o755)
		}},
		{name: "a link in a safe directory to a safe file", path: func(t *testing.T) string {
			l := filepath.Join(mkdir(t, filepath.Join(pub, "links"), 0o755, me), "ast-plugin-fault")
			if err := os.Symlink("../good/ast-plugin-fault", l); err != nil {
				t.Fatal(err)
			}
			return l
		}},
		{name: "a link to a file in a group-writable directory", path: func(t *testing.T) string {
			target := copyFault(t, mkdir(t, filepath.Join(pub, "gw"), 0o775, me), 0o755)
			l := filepath.Join(mkdir(t, filepath.Join(pub, "links2"), 0o755, me), "ast-plugin-fault")
			if err := os.Symlink(target, l); err != nil {
				t.Fatal(err)
			}
			return l
		}, want: "the directory " + filepath.Join(pub, "gw") + " is writable by group or others"},
		{name: "a link through a world-writable ancestor", path: func(t *testing.T) string {
			ww := mkdir(t, filepath.Join(pub, "ww"), 0o777, me)
			copyFault(t, mkdir(t, filepath.Join(ww, "in"), 0o755, me), 0o755)
			return filepath.Join(ww, "in", "ast-plugin-fault")
		}, want: "the directory " + filepath.Join(pub, "ww") + " is writable by group or others"},
		{name: "a sticky world-writable ancestor", path: func(t *testing.T) string {
			st := mkdir(t, filepath.Join(pub, "sticky"), 0o777|os.ModeSticky, me)
			return copyFault(t, mkdir(t, filepath.Join(st, "in"), 0o755, me), 0o755)
		}},
		{name: "a link loop", path: func(t *testing.T) string {
			d := mkdir(t, filepath.Join(pub, "loop"), 0o755, me)
			if err := os.Symlink("b", filepath.Join(d, "a")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("a", filepath.Join(d, "b")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(d, "a")
		}, want: "too many levels of symbolic links"},
		{name: "a file as a directory", path: func(*testing.T) string { return good + "/x" }, want: "not a directory"},
		{name: "a file and ..", path: func(*testing.T) string { return good + "/.." }, want: "not a directory"},
		{name: "a link of another user in a sticky directory", root: true, path: func(t *testing.T) string {
			st := mkdir(t, filepath.Join(pub, "sticky2"), 0o777|os.ModeSticky, 0)
			l := filepath.Join(st, "ast-plugin-fault")
			if err := os.Symlink(good, l); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(l, attackerID, attackerID); err != nil {
				t.Fatal(err)
			}
			return l
		}, want: "the symbolic link " + filepath.Join(pub, "sticky2", "ast-plugin-fault") + " belongs to user id 65534"},
		{name: "an ancestor of another user", root: true, path: func(t *testing.T) string {
			return copyFault(t, mkdir(t, filepath.Join(pub, "theirs"), 0o755, attackerID), 0o755)
		}, want: "the directory " + filepath.Join(pub, "theirs") + " belongs to user id 65534"},
		{name: "a hard link to root's file in a shared sticky directory", path: func(t *testing.T) string {
			st := mkdir(t, filepath.Join(pub, "sticky3"), 0o777|os.ModeSticky, 0)
			l := filepath.Join(st, "ast-plugin-fault")
			if err := os.Link(good, l); err != nil {
				t.Fatal(err)
			}
			return l
		}, want: "has other hard links"},
		{name: "a hard link of the attacker's file", root: true, path: func(t *testing.T) string {
			theirs := writeScript(t, filepath.Join(mkdir(t, filepath.Join(pub, "theirs2"), 0o755, attackerID), "x"), "echo evil", attackerID)
			l := filepath.Join(mkdir(t, filepath.Join(pub, "hl"), 0o755, me), "ast-plugin-fault")
			if err := os.Link(theirs, l); err != nil {
				t.Fatal(err)
			}
			return l
		}, want: "belongs to user id 65534"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root {
				skipUnlessRoot(t)
			}
			p := c.path(t)
			err := Verify(faultLocation(p))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestRelativePathsRefused: relative plugin directories and pins, and a pin that is a
// bare name, are refused with a message naming where they came from.
func TestRelativePathsRefused(t *testing.T) {
	abs := t.TempDir()
	cases := []struct {
		name string
		f    Finder
		want string
	}{
		{"relative AST_PLUGIN_PATH entry", Finder{PluginPath: []string{abs, "plugins"}}, `$AST_PLUGIN_PATH holds the relative directory "plugins"`},
		{"AST_PLUGIN_PATH entry of a dot", Finder{PluginPath: []string{"."}}, "$AST_PLUGIN_PATH"},
		{"relative pin", Finder{Pins: map[string]config.Plugin{"fault": {Path: "bin/ast-plugin-fault"}}}, "plugins.fault.path"},
		{"pin of a bare name", Finder{Pins: map[string]config.Plugin{"fault": {Path: "ast-plugin-fault"}}}, "plugins.fault.path"},
	}
	for _, c := range cases {
		_, err := c.f.Find("fault")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Find = %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, err := Start(context.Background(), faultLocation("ast-plugin-fault"), Options{}); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("Start of a relative path: %v", err)
	}
}

// TestUnsafeTmpdirRefused: a $TMPDIR in which others could rename the socket directory
// and put their own in its place is refused; a sticky one (as /tmp) is not.
func TestUnsafeTmpdirRefused(t *testing.T) {
	setFault(t, "ok")
	pub := publicDir(t)
	for _, c := range []struct {
		mode os.FileMode
		want string
	}{
		{0o777, "is writable by group or others"},
		{0o770, "is writable by group or others"},
		{0o777 | os.ModeSticky, ""},
		{0o700, ""},
	} {
		dir := mkdir(t, filepath.Join(pub, fmt.Sprintf("tmp%o", c.mode)), c.mode, os.Geteuid())
		t.Setenv("TMPDIR", dir)
		p, err := Start(context.Background(), faultLocation(faultBin), Options{})
		if err == nil {
			p.Close()
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("TMPDIR of mode %v: %v", c.mode, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "$TMPDIR")):
			t.Errorf("TMPDIR of mode %v: got %v, want a refusal naming $TMPDIR", c.mode, err)
		}
	}
	t.Setenv("TMPDIR", "relative/tmp")
	if _, err := Start(context.Background(), faultLocation(faultBin), Options{}); err == nil || !strings.Contains(err.Error(), "$TMPDIR") {
		t.Errorf("a relative TMPDIR: %v", err)
	}
}

// TestHostRefusesForeignSocket: ast talks only to a socket served by its own user: a
// socket another user put in the plugin's place fails the handshake; its own passes.
func TestHostRefusesForeignSocket(t *testing.T) {
	skipUnlessRoot(t)
	pub := publicDir(t)
	attacker := attackerBinary(t, pub)
	dir := mkdir(t, filepath.Join(pub, "att"), 0o755, attackerID)
	sock := filepath.Join(dir, "plugin.sock")
	cmd := asAttacker(exec.Command(attacker))
	cmd.Env = []string{attackerEnv + "=listen", "AST_HOST_TEST_SOCKET=" + sock}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make([]byte, 10)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "listening\n" {
		t.Fatalf("the attacker's listener: %q %v", line, err)
	}
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := (sameUserServer{}).ClientHandshake(context.Background(), "", conn); err == nil || !strings.Contains(err.Error(), "served by user id 65534") {
		t.Errorf("handshake with the attacker's socket: %v, want a refusal", err)
	}

	own := filepath.Join(t.TempDir(), "own.sock")
	l, err := net.Listen("unix", own)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	conn, err = net.Dial("unix", own)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, _, err := (sameUserServer{}).ClientHandshake(context.Background(), "", conn); err != nil {
		t.Errorf("handshake with its own socket: %v", err)
	}
}

// TestLongTmpdir: where $TMPDIR is too long for a socket address under it, the socket
// directory goes to $XDG_RUNTIME_DIR or /tmp, and the plugin starts.
func TestLongTmpdir(t *testing.T) {
	setFault(t, "ok")
	long := t.TempDir()
	for len(long) < 100 {
		long = filepath.Join(long, "a-long-directory-name")
	}
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long)
	t.Setenv("XDG_RUNTIME_DIR", "")
	p, err := Start(context.Background(), faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if filepath.Dir(p.socketDir) != "/tmp" {
		t.Errorf("socket directory %s, want one in /tmp", p.socketDir)
	}
	if len(socketOf(t, p)) > maxSocketPath {
		t.Errorf("socket path of %d bytes", len(socketOf(t, p)))
	}
}

// TestExecutableDescriptorNotInherited: the plugin gets its executable as descriptor 3,
// and pluginsdk.Serve marks it close-on-exec, so what the plugin starts does not get it.
func TestExecutableDescriptorNotInherited(t *testing.T) {
	pidDir := setFault(t, "ok")
	p, err := Start(context.Background(), faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pids := pidsIn(t, pidDir)
	if len(pids) != 1 {
		t.Fatalf("%d plugin processes", len(pids))
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/3", pids[0]))
	if err != nil {
		t.Fatal(err)
	}
	var flags string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "flags:"); ok {
			flags = strings.TrimSpace(v)
		}
	}
	f, err := strconv.ParseUint(flags, 8, 64)
	if err != nil || f&syscall.O_CLOEXEC == 0 {
		t.Errorf("descriptor 3 of the plugin has flags %q, want O_CLOEXEC", flags)
	}
	if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/3", pids[0])); target != faultBin {
		t.Errorf("descriptor 3 of the plugin is %s, want its executable %s", target, faultBin)
	}
}
