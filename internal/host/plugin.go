package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// DefaultCallTimeout bounds one call to a plugin: Configure, Info, List and Get as a wall
// clock, Put and Delete as a liveness deadline (the longest time without a result or a
// heartbeat). The AWS backend's retries with back-off fit in it; a plugin that hangs
// longer is killed.
const DefaultCallTimeout = 60 * time.Second

// closeGrace bounds how long Close waits for a plugin to exit by itself before it is
// killed: go-plugin's graceful shutdown is an RPC, which a frozen plugin never answers.
const closeGrace = 2 * time.Second

// probeTimeout bounds the health check that tells a plugin that died from one that
// returned an error.
const probeTimeout = time.Second

// Options tune how plugins are started.
type Options struct {
	// Stderr receives the plugin's warnings and errors (and, with Debug, everything
	// the plugin and go-plugin log).
	Stderr io.Writer
	// Debug shows every log line (AST_LOG=debug).
	Debug bool
	// CallTimeout bounds each call (Put and Delete: each silence); DefaultCallTimeout when zero.
	CallTimeout time.Duration
	// StartTimeout bounds the handshake; 10 s when zero.
	StartTimeout time.Duration
}

// Plugin is a started backend plugin. It implements pluginsdk.Backend: each call gets
// the per-call deadline, batches larger than the plugin's MaxBatch are split, and a
// plugin that crashed or hung comes back as an error naming it. Close stops it.
type Plugin struct {
	loc       Location
	socketDir string // the 0700 directory of the plugin's socket; removed by Close
	cmd       *exec.Cmd
	client    *plugin.Client
	conn      *grpc.ClientConn // for the health check after a failed call; nil if unknown
	raw       pluginsdk.Backend
	info      pluginsdk.Info
	timeout   time.Duration
	output    []*linePrefixer // the plugin's stderr and stdout after Serve (AST_LOG=debug)
}

// Start starts the plugin at loc and asks for its Info. It does not Configure it.
//
// What it checks is what it executes: it opens the executable once (openChecked: an
// absolute, symlink-free path whose every directory, link and file belongs to the user or
// root and cannot be changed by others), checks a pinned SHA-256 against that open file,
// and executes that very file by its descriptor (/proc/self/fd/N on Linux; a private copy
// in the command's socket directory elsewhere), so a rename or a swapped link after the
// check cannot change what runs.
//
// The plugin's Unix socket is created in a fresh directory of mode 0700 (go-plugin's
// PLUGIN_UNIX_SOCKET_DIR), removed by Close; ast talks only to a socket served by its own
// user (peer credentials), and the plugin accepts only its own user's connections.
//
// Errors name the backend and the executable: a plugin that is refused by the checks,
// does not start, speaks another protocol version, fails its checksum or prints garbage
// on stdout.
func Start(ctx context.Context, loc Location, opts Options) (*Plugin, error) {
	p, raw, err := launch(loc, opts, pluginsdk.Handshake, pluginsdk.PluginSets(nil), pluginsdk.PluginName)
	if err != nil {
		return nil, err
	}
	p.raw = raw.(pluginsdk.Backend)
	if p.info, err = p.Info(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// launch does Start's work for any protocol of ast's plugins (backend, deploy target): it
// starts the plugin at loc with go-plugin's handshake and versioned plugin sets, and
// dispenses name from it.
func launch(loc Location, opts Options, handshake plugin.HandshakeConfig, sets map[int]plugin.PluginSet, name string) (*Plugin, any, error) {
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	var pin []byte
	if loc.SHA256 != "" {
		sum, err := hex.DecodeString(loc.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, nil, fmt.Errorf("the config pins the %s plugin %s to %q, which is not a hex SHA-256 (64 hex digits)", loc.Backend, loc.Path, loc.SHA256)
		}
		pin = sum
	}
	p := &Plugin{loc: loc, timeout: opts.CallTimeout,
		output: []*linePrefixer{pluginOutput(loc.Backend, "stderr", opts), pluginOutput(loc.Backend, "stdout", opts)}}
	base := socketBase()
	// Another user who could rename entries of the temporary directory could put a
	// directory of its own in place of the socket directory.
	if err := checkDirPath(base); err != nil {
		return nil, nil, fmt.Errorf("the %s plugin %s: refusing the temporary directory for its socket (%s, from $TMPDIR): %v", loc.Backend, loc.Path, base, err)
	}
	// Once per process, the directories of asts that were killed before they could remove
	// theirs go (see sweepSocketDirs for what makes one safe to remove). The sweep reads
	// the whole of $TMPDIR (about 1.5 ms for 1,200 entries), so it runs while the plugin
	// starts, and launch returns only once it is done.
	sweepDone := make(chan struct{})
	sweeping := false
	sweepOnce.Do(func() {
		sweeping = true
		go func() {
			defer close(sweepDone)
			sweepSocketDirs(base, time.Now())
		}()
	})
	if sweeping {
		defer func() { <-sweepDone }()
	}
	var err error
	// ast-PID-RANDOM: the PID tells a later sweep whether the directory's ast is alive.
	if p.socketDir, err = os.MkdirTemp(base, "ast-"+strconv.Itoa(os.Getpid())+"-"); err != nil {
		return nil, nil, fmt.Errorf("the %s plugin %s: a directory for its socket: %w", loc.Backend, loc.Path, err)
	}
	// MkdirTemp's 0700 is masked by the umask; the socket directory must be exactly 0700.
	if err := os.Chmod(p.socketDir, 0o700); err != nil {
		p.removeSocketDir()
		return nil, nil, err
	}
	cmd, exe, err := pluginCommand(loc, pin, p.socketDir)
	if err != nil {
		p.removeSocketDir()
		return nil, nil, err
	}
	// The child has its own copy of the descriptor once started.
	defer exe.Close()
	// The plugin inherits ast's environment (cloud credential chains read it), without
	// go-plugin's own variables (an inherited PLUGIN_UNIX_SOCKET_GROUP would open the
	// socket to a group), plus ast's process id, which pluginsdk.Serve checks to exit if
	// ast died while it started, and the socket directory.
	env := os.Environ()
	for _, k := range []string{pluginsdk.ParentPIDEnv, "PLUGIN_UNIX_SOCKET_DIR", "PLUGIN_UNIX_SOCKET_GROUP",
		"PLUGIN_MULTIPLEX_GRPC", "PLUGIN_CLIENT_CERT", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_PROTOCOL_VERSIONS"} {
		env = withoutEnv(env, k)
	}
	cmd.Env = append(env, pluginsdk.ParentPIDEnv+"="+strconv.Itoa(os.Getpid()), plugin.EnvUnixSocketDir+"="+p.socketDir)
	setParentDeath(cmd)
	p.cmd = cmd
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: sets,
		Cmd:              cmd,
		SkipHostEnv:      true, // cmd.Env has it already
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// No AutoMTLS: the socket sits in a 0700 directory and both ends check that the
		// other runs as the same user, without two P-521 certificates on every command
		// (~20 ms).
		Logger:          newLogger(loc.Backend, opts),
		SyncStderr:      p.output[0],
		SyncStdout:      p.output[1],
		GRPCDialOptions: append(pluginsdk.GRPCDialOptions(), grpc.WithTransportCredentials(sameUserServer{})),
		StartTimeout:    opts.StartTimeout,
	}
	client := plugin.NewClient(cfg)
	p.client = client
	rpc, err := client.Client()
	if err != nil {
		p.Close()
		return nil, nil, p.startError(err)
	}
	if g, ok := rpc.(*plugin.GRPCClient); ok {
		p.conn = g.Conn
	}
	raw, err := rpc.Dispense(name)
	if err != nil {
		p.Close()
		return nil, nil, fmt.Errorf("the %s plugin %s: %v", loc.Backend, loc.Path, err)
	}
	return p, raw, nil
}

// sweepOnce runs sweepSocketDirs at the first plugin start of the process.
var sweepOnce sync.Once

// maxSocketPath is the longest Unix socket path Linux and the BSDs take (sun_path is 108
// bytes on Linux, 104 on macOS, with its NUL).
const maxSocketPath = 103

// socketBase returns the directory in which the plugin's socket directory is created:
// $TMPDIR (os.TempDir), unless the socket path would not fit in a Unix socket address
// there: then $XDG_RUNTIME_DIR, or /tmp. The socket is DIR/ast-PID-NNNNNNNNNN/pluginNNNNNNNNNN
// (PID at most 4194304 on Linux).
func socketBase() string {
	const tail = len("/ast-4194304-1234567890/plugin1234567890")
	base := os.TempDir()
	if len(base)+tail <= maxSocketPath {
		return base
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) && len(d)+tail <= maxSocketPath {
		return d
	}
	return "/tmp"
}

// pluginCommand opens loc's executable once (openPlugin), checks pin (a SHA-256, or nil)
// against that open file, and returns the command that executes exactly that file, and
// the file, which the caller closes once the command has started. dir is a private 0700
// directory for the copy that systems without exec by descriptor run.
func pluginCommand(loc Location, pin []byte, dir string) (*exec.Cmd, *os.File, error) {
	exe, resolved, err := openPlugin(loc)
	if err != nil {
		return nil, nil, err
	}
	execPath, sum, err := executablePath(exe, dir, pin != nil)
	if err != nil {
		exe.Close()
		return nil, nil, fmt.Errorf("the %s plugin %s: %w", loc.Backend, loc.Path, err)
	}
	if pin != nil && !bytes.Equal(sum, pin) {
		exe.Close()
		return nil, nil, fmt.Errorf("refusing the %s plugin %s: its SHA-256 is %s, the config pins %s; if you rebuilt or "+
			"upgraded it and trust the new binary, accept it with: ast plugin pin %s",
			loc.Backend, loc.Path, hex.EncodeToString(sum), hex.EncodeToString(pin), loc.Backend)
	}
	cmd := exec.Command(execPath)
	cmd.Args[0] = resolved
	cmd.ExtraFiles = []*os.File{exe} // descriptor 3 of the child: see executablePath
	return cmd, exe, nil
}

// executablePath returns the path the child executes to run exactly the open file exe,
// which the child holds as descriptor 3 (cmd.ExtraFiles): /proc/self/fd/3 where the system
// has it; else a private copy in dir (the command's 0700 socket directory). With hash, it
// also returns the SHA-256 of what will run.
func executablePath(exe *os.File, dir string, hash bool) (path string, sum []byte, err error) {
	if p, err := descriptorPath(exe, 3); err == nil {
		if hash {
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(exe, 0, 1<<62)); err != nil {
				return "", nil, err
			}
			sum = h.Sum(nil)
		}
		return p, sum, nil
	}
	path = filepath.Join(dir, filepath.Base(exe.Name()))
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), io.NewSectionReader(exe, 0, 1<<62))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", nil, fmt.Errorf("a private copy to run: %w", err)
	}
	return path, h.Sum(nil), nil
}

// openPlugin opens loc's executable with openChecked and turns its errors into messages
// that name the backend and the path, and say how to fix it.
func openPlugin(loc Location) (*os.File, string, error) {
	if !filepath.IsAbs(loc.Path) {
		return nil, "", fmt.Errorf("refusing the %s plugin %s: not an absolute path (a relative one would run whatever the current directory holds)", loc.Backend, loc.Path)
	}
	f, resolved, err := openChecked(loc.Path)
	if err == nil {
		return f, resolved, nil
	}
	var unsafe *unsafePathError
	var notExe *notExecutableError
	var pe *os.PathError
	switch {
	case errors.As(err, &unsafe):
		return nil, "", fmt.Errorf("refusing the %s plugin %s: %v", loc.Backend, loc.Path, err)
	case errors.As(err, &notExe) && notExe.path == loc.Path:
		return nil, "", fmt.Errorf("the %s plugin %s is not an executable file (chmod 755 %s)", loc.Backend, loc.Path, loc.Path)
	case errors.As(err, &pe) && pe.Path == loc.Path:
		return nil, "", fmt.Errorf("the %s plugin %s: %v", loc.Backend, loc.Path, pe.Err)
	}
	return nil, "", fmt.Errorf("the %s plugin %s: %v", loc.Backend, loc.Path, err)
}

func (p *Plugin) startError(err error) error {
	msg := err.Error()
	where := fmt.Sprintf("the %s plugin %s", p.loc.Backend, p.loc.Path)
	switch {
	case strings.Contains(msg, "incompatible API version"):
		return protocolError(p.loc, msg)
	case strings.Contains(msg, "Failed to read any lines from plugin's stdout"),
		strings.Contains(msg, "exited before we could connect"):
		// Its stdout closed before a handshake line: it exited (or closed stdout).
		return fmt.Errorf("%s exited before it could be used (run with AST_LOG=debug to see its output)", where)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		// Not quoted: whatever the plugin printed is not ours to repeat.
		return fmt.Errorf("%s did not start: it printed something other than the go-plugin handshake on stdout (plugins must log to stderr)", where)
	case strings.Contains(msg, "timeout while waiting"):
		return fmt.Errorf("%s did not start within the start timeout", where)
	}
	return fmt.Errorf("%s did not start: %v", where, err)
}

// protocolError explains go-plugin's "incompatible API version" error (msg): which
// protocol the plugin speaks, which this ast speaks, and which of the two to upgrade.
func protocolError(loc Location, msg string) error {
	// go-plugin's text: "... Plugin version: 2, Client versions: [1]".
	_, v, _ := strings.Cut(msg, "Plugin version: ")
	v, _, _ = strings.Cut(v, ",")
	theirs, err := strconv.Atoi(v)
	ours := pluginsdk.ProtocolVersion
	switch {
	case err != nil:
		return fmt.Errorf("plugin %s speaks another protocol than this ast (%d): upgrade the plugin or ast (plugin executable: %s)", loc.Backend, ours, loc.Path)
	case theirs > ours:
		return fmt.Errorf("plugin %s speaks protocol %d, this ast speaks %d: upgrade ast (plugin executable: %s)", loc.Backend, theirs, ours, loc.Path)
	}
	return fmt.Errorf("plugin %s speaks protocol %d, this ast speaks %d: upgrade the plugin, or rebuild it with a newer pluginsdk (plugin executable: %s)", loc.Backend, theirs, ours, loc.Path)
}

// newLogger routes go-plugin's and the plugin's log lines to opts.Stderr. Without Debug
// only the plugin's own structured warnings and errors pass (a "retrying" notice, say):
// not go-plugin's chatter, nor a panic's raw output, which could carry anything. Every
// line passes termtext (a plugin's text is outside text: no raw control reaches the terminal).
func newLogger(backend string, opts Options) hclog.Logger {
	lo := &hclog.LoggerOptions{Name: backend, Output: termtext.Writer{W: opts.Stderr}, Level: hclog.Debug}
	if opts.Stderr == nil {
		lo.Output = io.Discard
	}
	if !opts.Debug {
		lo.Level, lo.DisableTime = hclog.Warn, true
		lo.Exclude = func(_ hclog.Level, _ string, args ...interface{}) bool {
			for i := 0; i+1 < len(args); i += 2 {
				if args[i] == "timestamp" { // go-plugin adds it to lines the plugin logged with hclog
					return false
				}
			}
			return true
		}
	}
	return hclog.New(lo)
}

// Info is what the plugin reported when it started.
func (p *Plugin) Describe() pluginsdk.Info { return p.info }

// Location is where the plugin was started from.
func (p *Plugin) Location() Location { return p.loc }

// Close stops the plugin process and waits until it is gone. It asks the plugin to shut
// down, and kills it if it has not exited within closeGrace (2 s). It is safe to call
// more than once.
func (p *Plugin) Close() {
	defer p.removeSocketDir()
	if p.client == nil {
		return
	}
	for _, o := range p.output {
		o.drain()
	}
	done := make(chan struct{})
	go func() {
		p.client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeGrace):
		p.kill()
		<-done
	}
}

// removeSocketDir removes the socket directory, with the socket a killed plugin leaves.
func (p *Plugin) removeSocketDir() {
	if p.socketDir != "" {
		_ = os.RemoveAll(p.socketDir)
	}
}

// kill sends SIGKILL to the plugin process, if it was started. Close still has to reap it.
func (p *Plugin) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// call runs fn with the per-call wall deadline (Configure, Info, List, Get) and turns
// transport failures into errors that name the plugin (see fail).
func (p *Plugin) call(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	return p.callFor(ctx, what, p.timeout, fn)
}

// callFor is call with a deadline of its own (a deploy that waits for a rollout).
func (p *Plugin) callFor(ctx context.Context, what string, timeout time.Duration, fn func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := fn(cctx)
	if err == nil {
		return nil
	}
	if p.timedOut(cctx, err) && ctx.Err() == nil {
		// Killed outright: a plugin that hangs may not answer a shutdown request either.
		p.kill()
		p.Close()
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s did not answer %s within %s; it was stopped", p.where(), what, timeout)
	}
	return p.fail(ctx, what, err)
}

// errSilent is the cause of a streaming call cancelled by its liveness deadline.
var errSilent = errors.New("no result or heartbeat within the liveness deadline")

// stream runs one Put or Delete (fn) with a liveness deadline instead of a wall clock: it
// fails only when the plugin sent neither a result nor a heartbeat for the per-call
// timeout, so a long batch that keeps reporting completes. Results are passed on to the
// caller's reporter (pluginsdk.WithReporter on ctx) shifted by offset, the index of the
// part's first item in the caller's batch; heartbeats to the caller's WithHeartbeat.
// fn's results (all of them, also with an error) are returned with the error from fail.
func (p *Plugin) stream(ctx context.Context, what string, offset int, fn func(ctx context.Context) ([]pluginsdk.Result, error)) ([]pluginsdk.Result, error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	live := time.AfterFunc(p.timeout, func() { cancel(errSilent) })
	defer live.Stop()
	sctx := pluginsdk.WithReporter(cctx, func(i int, r pluginsdk.Result) {
		live.Reset(p.timeout)
		pluginsdk.Report(ctx, offset+i, r)
	})
	sctx = pluginsdk.WithHeartbeat(sctx, func(retry bool) {
		live.Reset(p.timeout)
		if retry {
			pluginsdk.Retrying(ctx)
		} else {
			pluginsdk.Heartbeat(ctx)
		}
	})
	res, err := fn(sctx)
	if err == nil {
		return res, nil
	}
	if ctx.Err() == nil && errors.Is(context.Cause(cctx), errSilent) {
		p.kill()
		p.Close()
		return res, pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s sent no result or heartbeat during %s for %s; it was stopped", p.where(), what, p.timeout)
	}
	return res, p.fail(ctx, what, err)
}

// where names the plugin in errors.
func (p *Plugin) where() string { return fmt.Sprintf("the %s plugin (%s)", p.loc.Backend, p.loc.Path) }

// fail turns the error of a call that failed for another reason than its deadline into
// one that names the plugin: a caller that gave up gets its context's error, a plugin
// that died during the call is reported as stopped (ErrInternal), a plain error of the
// backend (code Unknown) is prefixed with the plugin's name (ErrInternal). The plugin's
// coded errors pass unchanged.
func (p *Plugin) fail(ctx context.Context, what string, err error) error {
	switch {
	case ctx.Err() != nil:
		// The caller gave up (Ctrl-C); the caller's Close stops the plugin.
		return ctx.Err()
	case pluginsdk.CodeOf(err) == codes.DeadlineExceeded:
		// The plugin gave up on something of its own before our deadline.
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: %s timed out", p.where(), what)
	case p.died(err):
		p.Close()
		return pluginsdk.Errorf(pluginsdk.ErrInternal, "%s stopped unexpectedly during %s (run with AST_LOG=debug to see its output)", p.where(), what)
	case pluginsdk.CodeOf(err) == codes.Unknown:
		return pluginsdk.Errorf(pluginsdk.ErrInternal, "plugin %q failed: %v", p.loc.Backend, err)
	}
	return err
}

// timedOut reports whether the call that failed with err ran into the per-call deadline
// of ctx. gRPC's own deadline timer may fire a moment before the context's, so a
// DeadlineExceeded status at the deadline counts too.
func (p *Plugin) timedOut(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	deadline, _ := ctx.Deadline()
	return pluginsdk.CodeOf(err) == codes.DeadlineExceeded && time.Until(deadline) < 100*time.Millisecond
}

// died reports whether the call that failed with err failed because the plugin process
// is gone. The transport reports a dead plugin as Unavailable (or Canceled, which comes
// back as context.Canceled, code Unknown), codes a live plugin may return too (a backend
// that cannot be reached is Unavailable), and go-plugin notices the exit only a moment
// later; so for those codes a health check of the connection decides: a dead plugin's
// socket refuses it at once, a live plugin answers it even while its calls are busy.
func (p *Plugin) died(err error) bool {
	if p.client.Exited() {
		return true
	}
	switch pluginsdk.CodeOf(err) {
	case codes.Unavailable, codes.Internal, codes.Unknown:
	default:
		return false
	}
	if p.conn == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	_, herr := healthpb.NewHealthClient(p.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
	return herr != nil || p.client.Exited()
}

// Configure implements pluginsdk.Backend.
func (p *Plugin) Configure(ctx context.Context, account string, settings map[string]string) error {
	return p.call(ctx, "Configure", func(ctx context.Context) error { return p.raw.Configure(ctx, account, settings) })
}

// Info implements pluginsdk.Backend.
func (p *Plugin) Info(ctx context.Context) (info pluginsdk.Info, err error) {
	err = p.call(ctx, "Info", func(ctx context.Context) (err error) { info, err = p.raw.Info(ctx); return })
	return info, err
}

// List implements pluginsdk.Backend.
func (p *Plugin) List(ctx context.Context, opts pluginsdk.ListOptions) (es []pluginsdk.Entry, err error) {
	err = p.call(ctx, "List", func(ctx context.Context) (err error) { es, err = p.raw.List(ctx, opts); return })
	return es, err
}

// Get implements pluginsdk.Backend.
func (p *Plugin) Get(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	return batched(p, names, func(part []string) (res []pluginsdk.Result, err error) {
		err = p.call(ctx, "Get", func(ctx context.Context) (err error) { res, err = p.raw.Get(ctx, part); return })
		return res, err
	})
}

// Put implements pluginsdk.Backend with a liveness deadline (see stream), in parts of
// the plugin's MaxBatch. It always returns len(entries) results: when a part fails, the
// results the plugin reported before the failure, ErrOutcomeUnknown for the others of
// that part, and errNotAttempted for the parts after it, together with the error.
func (p *Plugin) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return p.writes(ctx, "Put", names, func(ctx context.Context, lo, hi int) ([]pluginsdk.Result, error) {
		return p.raw.Put(ctx, entries[lo:hi], mode)
	})
}

// Delete implements pluginsdk.Backend as Put does.
func (p *Plugin) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	return p.writes(ctx, "Delete", names, func(ctx context.Context, lo, hi int) ([]pluginsdk.Result, error) {
		return p.raw.Delete(ctx, names[lo:hi])
	})
}

// writes runs a Put or Delete of names in parts of the plugin's MaxBatch (fn writes the
// items lo to hi), each under a liveness deadline, and keeps every result it got: see Put.
func (p *Plugin) writes(ctx context.Context, what string, names []string, fn func(ctx context.Context, lo, hi int) ([]pluginsdk.Result, error)) ([]pluginsdk.Result, error) {
	size := p.info.MaxBatch
	if size <= 0 || size > len(names) {
		size = max(len(names), 1)
	}
	out := make([]pluginsdk.Result, 0, len(names))
	for lo := 0; lo == 0 || lo < len(names); lo += size {
		hi := min(lo+size, len(names))
		res, err := p.stream(ctx, what, lo, func(ctx context.Context) ([]pluginsdk.Result, error) { return fn(ctx, lo, hi) })
		if got := len(res); got != hi-lo { // a Backend other than pluginsdk's client: nothing is known
			res = make([]pluginsdk.Result, hi-lo)
			for i := range res {
				res[i] = pluginsdk.OutcomeUnknown(names[lo+i])
			}
			if err == nil {
				err = pluginsdk.Errorf(pluginsdk.ErrInternal, "%s answered %s of %d names with %d results", p.where(), what, hi-lo, got)
			}
		}
		out = append(out, res...)
		if err != nil {
			for _, name := range names[hi:] {
				out = append(out, pluginsdk.Result{Entry: pluginsdk.Entry{Name: name}, Err: errNotAttempted})
			}
			return out, err
		}
	}
	return out, nil
}

// errNotAttempted is the result of a name that was never sent to the plugin because an
// earlier part of its batch failed: certainly not written.
var errNotAttempted = pluginsdk.Errorf(pluginsdk.ErrNotAttempted, "not attempted: the batch stopped at an earlier failure")

// batched splits items into the plugin's MaxBatch and joins the results in order (Get:
// a failed part fails the whole call, which writes nothing).
func batched[T any](p *Plugin, items []T, fn func([]T) ([]pluginsdk.Result, error)) ([]pluginsdk.Result, error) {
	size := p.info.MaxBatch
	if size <= 0 || len(items) <= size {
		return fn(items)
	}
	out := make([]pluginsdk.Result, 0, len(items))
	for start := 0; start < len(items); start += size {
		res, err := fn(items[start:min(start+size, len(items))])
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// withoutEnv returns env without the variable key.
func withoutEnv(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
