package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/ast-cli/ast/internal/fsperm"
	"github.com/ast-cli/ast/internal/refs"
)

// TargetLocal is the name of the built-in deploy target: a process on this machine.
const TargetLocal = "local"

// Variable origins: where the value of a deployed variable was chosen.
const (
	FromBlueprint = "blueprint" // the blueprint's env
	FromFlag      = "--var"     // a --var argument of the deploy, which overrides env
)

// Variable is where one variable of a deployment came from: a reference to an entry of
// the account (its name, kind and version as resolved), a literal written in the
// blueprint (with its text: it is on disk already), or a literal given with --var (its
// length and keyed hash only: it may be a secret the user typed). It never holds an
// entry's value.
type Variable struct {
	refs.Source
	// From is FromBlueprint or FromFlag.
	From string `json:"from"`
	// LiteralBytes and LiteralHMAC stand for the text of a --var literal: its length in
	// bytes, and HashLiteral of it under the user's key ("" when no key was given).
	LiteralBytes *int   `json:"literal_bytes,omitempty"`
	LiteralHMAC  string `json:"literal_hmac,omitempty"`
}

// Hidden reports whether v is a literal whose text is not kept (a --var literal).
func (v Variable) Hidden() bool { return v.LiteralBytes != nil }

// Variables pairs sources (from refs.Plan or refs.Resolved.Sources) with the origin of
// each key: FromFlag for the keys in flagKeys, FromBlueprint for the others. The text of
// a FromFlag literal is dropped: LiteralBytes holds its length and LiteralHMAC
// HashLiteral(key, text) (left empty when key is nil).
func Variables(sources []refs.Source, flagKeys map[string]bool, key []byte) []Variable {
	out := make([]Variable, len(sources))
	for i, s := range sources {
		out[i] = Variable{Source: s, From: FromBlueprint}
		if !flagKeys[s.Key] {
			continue
		}
		out[i].From = FromFlag
		if s.Kind == refs.SourceLiteral {
			n := len(s.Literal)
			out[i].LiteralBytes = &n
			if key != nil {
				out[i].LiteralHMAC = HashLiteral(key, s.Literal)
			}
			out[i].Literal = ""
		}
	}
	return out
}

// Deployment is the record of one agent's deployment: what was started, where, from which
// blueprint, and where each variable came from. It is written as JSON to
// STATE/deployments/AGENT.json (0600) and never holds a resolved value.
type Deployment struct {
	Agent   string `json:"agent"`
	Account string `json:"account"`
	Backend string `json:"backend"`
	Target  string `json:"target"`
	// PID is the agent's process id.
	PID int `json:"pid"`
	// PGID is the agent's process group, signalled as a whole by Stop: its own (PGID =
	// PID), detached or --foreground.
	PGID int `json:"pgid,omitempty"`
	// ProcessStart is the agent's start time in clock ticks since boot (field 22 of
	// /proc/PID/stat; 0 where there is no /proc). With PID it identifies the process, so
	// that a reused pid is not mistaken for the agent.
	ProcessStart uint64    `json:"process_start,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	Foreground   bool      `json:"foreground,omitempty"`
	// ExitStatus and ExitedAt say how the agent ended, when ast saw it end: a
	// --foreground run, or a detached agent that ended within the deploy's first second.
	// An agent that ends later is reaped by init and leaves them unset.
	ExitStatus *int       `json:"exit_status,omitempty"`
	ExitedAt   *time.Time `json:"exited_at,omitempty"`

	Blueprint       string     `json:"blueprint"`
	BlueprintDigest string     `json:"blueprint_digest"`
	Command         []string   `json:"command"`
	Workdir         string     `json:"workdir"`
	Log             string     `json:"log,omitempty"`
	Variables       []Variable `json:"variables"`
}

// Process returns the process of the deployment.
func (d *Deployment) Process() Process {
	return Process{PID: d.PID, PGID: d.PGID, Start: d.ProcessStart}
}

// Store keeps deployment records and agent logs under a state directory
// (config.Paths.StateDir, $XDG_STATE_HOME/ast):
//
//	STATE/deployments/AGENT.json   the record (0600)
//	STATE/deployments/AGENT.lock   held while AGENT is deployed or stopped
//	STATE/agents/AGENT.log         the agent's stdout and stderr, appended (0600)
//
// Directories are created 0700. Every one of them, and every file, must pass
// internal/fsperm's rule (owned by the user or root, not writable by group or others; the
// files not readable by them either), or the call fails naming the path and the fix.
// Records, locks and logs are opened with O_NOFOLLOW: a symbolic link planted at one of
// these names is refused, never followed. A record's temp file is created with O_EXCL
// and its mode set on the descriptor.
type Store struct {
	Dir string
}

// MaxRecordBytes is the largest deployment record Read accepts: 1 MiB (a record holds
// the command and one line per variable; real ones are a few KiB).
const MaxRecordBytes = 1 << 20

func (s Store) deploymentsDir() string { return filepath.Join(s.Dir, "deployments") }
func (s Store) agentsDir() string      { return filepath.Join(s.Dir, "agents") }

// checkDirs checks the state directory and dir (one of its subdirectories) where they
// exist.
func (s Store) checkDirs(dir string) error {
	return fsperm.CheckDirs(s.Dir, dir)
}

// ensureDir creates dir (under the state directory) 0700 when missing, after checking
// the state directory.
func (s Store) ensureDir(dir string) error {
	if err := fsperm.CheckDirs(s.Dir); err != nil {
		return err
	}
	return fsperm.EnsureDir(dir, nil)
}

// RecordPath is where the record of agent lives.
func (s Store) RecordPath(agent string) string {
	return filepath.Join(s.Dir, "deployments", agent+".json")
}

// LogPath is agent's log file.
func (s Store) LogPath(agent string) string {
	return filepath.Join(s.agentsDir(), agent+".log")
}

func (s Store) lockPath(agent string) string {
	return filepath.Join(s.Dir, "deployments", agent+".lock")
}

// ErrNotDeployed is returned by Read for an agent that has no record.
var ErrNotDeployed = errors.New("not deployed")

// Read returns the record of agent. Errors: ErrNotDeployed (wrapped, naming the agent)
// when there is none; a read or JSON error naming the file.
func (s Store) Read(agent string) (*Deployment, error) {
	if err := ValidateAgentName(agent); err != nil {
		return nil, err
	}
	p := s.RecordPath(agent)
	if err := s.checkDirs(s.deploymentsDir()); err != nil {
		return nil, err
	}
	f, err := fsperm.Open(p, os.O_RDONLY, fsperm.Private)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("agent %s is %w (no record %s)", agent, ErrNotDeployed, p)
	}
	if err != nil {
		return nil, fmt.Errorf("deployment record: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRecordBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the deployment record: %w", err)
	}
	if len(data) > MaxRecordBytes {
		return nil, fmt.Errorf("deployment record %s is larger than %d MiB: it is not a record ast wrote", p, MaxRecordBytes>>20)
	}
	var d Deployment
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("deployment record %s: %v", p, err)
	}
	if d.Agent != agent {
		return nil, fmt.Errorf("deployment record %s is for agent %q", p, d.Agent)
	}
	return &d, nil
}

// Write saves d atomically (0600 in a 0700 directory): a crash leaves the old record or
// the new one.
func (s Store) Write(d *Deployment) error {
	if err := ValidateAgentName(d.Agent); err != nil {
		return err
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	p := s.RecordPath(d.Agent)
	if err := s.ensureDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("the deployments directory: %w", err)
	}
	pending, err := renameio.NewPendingFile(p, renameio.WithTempDir(filepath.Dir(p)), renameio.WithStaticPermissions(fsperm.FileMode))
	if err != nil {
		return fmt.Errorf("writing the deployment record: %w", err)
	}
	defer pending.Cleanup()
	if _, err := pending.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing the deployment record: %w", err)
	}
	if err := pending.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("writing the deployment record: %w", err)
	}
	return nil
}

// Remove deletes agent's record; a missing record is not an error. The log stays.
func (s Store) Remove(agent string) error {
	if err := ValidateAgentName(agent); err != nil {
		return err
	}
	if err := os.Remove(s.RecordPath(agent)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the deployment record: %w", err)
	}
	return nil
}

// List returns every record, sorted by agent. A record that cannot be read is returned
// in bad by file name, so that one broken file does not hide the others.
func (s Store) List() (deployments []*Deployment, bad []error, err error) {
	dir := s.deploymentsDir()
	if err := s.checkDirs(dir); err != nil {
		return nil, nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing deployments: %w", err)
	}
	for _, e := range entries {
		agent, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || ValidateAgentName(agent) != nil {
			continue
		}
		d, err := s.Read(agent)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		deployments = append(deployments, d)
	}
	sort.Slice(deployments, func(i, j int) bool { return deployments[i].Agent < deployments[j].Agent })
	return deployments, bad, nil
}

// Lock takes the lock of agent, so that two ast processes never deploy or stop the same
// agent at once. It waits until ctx is done; the error then says another ast holds it.
// The returned function releases the lock.
func (s Store) Lock(ctx context.Context, agent string) (unlock func(), err error) {
	if err := ValidateAgentName(agent); err != nil {
		return nil, err
	}
	p := s.lockPath(agent)
	if err := s.ensureDir(filepath.Dir(p)); err != nil {
		return nil, fmt.Errorf("the deployments directory: %w", err)
	}
	l, err := fsperm.OpenLock(p)
	if err != nil {
		return nil, fmt.Errorf("locking agent %s: %w", agent, err)
	}
	if err := l.Lock(ctx); err != nil {
		l.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("another ast is deploying or stopping agent %s (lock %s): %w", agent, p, ctx.Err())
		}
		return nil, fmt.Errorf("locking agent %s: %w", agent, err)
	}
	return func() { _ = l.Close() }, nil
}

// OpenLog opens agent's log for appending, creating it 0600 (and its directory 0700),
// without following a symbolic link. The file is the agent's stdout and stderr; ast
// writes nothing else into it.
func (s Store) OpenLog(agent string) (*os.File, error) {
	if err := ValidateAgentName(agent); err != nil {
		return nil, err
	}
	p := s.LogPath(agent)
	if err := s.ensureDir(filepath.Dir(p)); err != nil {
		return nil, fmt.Errorf("the agent log directory: %w", err)
	}
	f, err := fsperm.Open(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fsperm.Private)
	if err != nil {
		return nil, fmt.Errorf("opening the agent log: %w", err)
	}
	return f, nil
}

// ReadLog opens agent's log for reading, without following a symbolic link, after the
// same checks as OpenLog. A missing log is an error wrapping fs.ErrNotExist.
func (s Store) ReadLog(agent string) (*os.File, error) {
	if err := ValidateAgentName(agent); err != nil {
		return nil, err
	}
	if err := s.checkDirs(s.agentsDir()); err != nil {
		return nil, err
	}
	return fsperm.Open(s.LogPath(agent), os.O_RDONLY, fsperm.Private)
}
