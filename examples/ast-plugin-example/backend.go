package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
)

// backend implements pluginsdk.Backend on a directory of JSON files, one per entry.
//
// Writes are atomic: an entry is written to a temporary file in its directory, which is
// then renamed over NAME.json (Update, Upsert) or hard-linked to it (Create). A link fails
// when the name exists, so of clients that create one name at once exactly one wins.
// Update and Upsert read the old file (for its version and created time) before they
// rename: a Delete that lands between the two is undone, and two writers at once may both
// count the same version. A backend on a real store closes that window with the store's
// own check-and-set (Vault's cas, a conditional write, a lock).
type backend struct {
	log hclog.Logger

	mu  sync.Mutex
	dir string // the account's directory; empty until Configure
}

func newBackend() *backend { return &backend{log: pluginsdk.NewLogger("example")} }

// record is an entry; NAME.json holds it with the value sealed (see seal.go).
type record struct {
	Kind      pluginsdk.Kind `json:"kind"`
	Value     string         `json:"-"`
	Sealed    []byte         `json:"sealed"`
	Version   int64          `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// Configure takes one optional setting, dir: an absolute directory that replaces
// $XDG_DATA_HOME/ast/example. Any other setting is ErrInvalidArgument.
func (b *backend) Configure(_ context.Context, account string, settings map[string]string) error {
	if !pluginsdk.ValidAccount(account) {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "invalid account name %q", account)
	}
	root := ""
	for key, v := range settings {
		switch {
		case key == "dir" && filepath.IsAbs(v):
			root = v
		case key == "dir":
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "setting dir=%q: the directory must be an absolute path", v)
		default:
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "unknown setting %q: the example backend takes only dir", key)
		}
	}
	if root == "" {
		data := os.Getenv("XDG_DATA_HOME")
		if !filepath.IsAbs(data) { // the XDG spec says to ignore a relative path
			home, err := os.UserHomeDir()
			if err != nil {
				return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "no home directory (%v): set the account's dir setting", err)
			}
			data = filepath.Join(home, ".local", "share")
		}
		root = filepath.Join(data, "ast", "example")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dir = filepath.Join(root, account)
	b.log.Debug("configured", "account", account, "dir", b.dir) // names and paths only, never a value
	return nil
}

// Info may be called before Configure. The example keeps created and updated times but
// not old versions, so it reports CapTimestamps and not CapVersions.
func (b *backend) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{Name: "example", Version: "0.1.0", Protocol: pluginsdk.ProtocolVersion,
		Capabilities: []string{pluginsdk.CapTimestamps}}, nil
}

// accountDir returns the account's directory, or ErrFailedPrecondition before Configure.
func (b *backend) accountDir() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir == "" {
		return "", pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the example backend is not configured")
	}
	return b.dir, nil
}

// List reads every NAME.json of the account and sorts the entries by name. A secret's
// value is dropped here, in the backend: it must never leave through List.
func (b *backend) List(_ context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	dir, err := b.accountDir()
	if err != nil {
		return nil, err
	}
	files, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nothing was written yet
	} else if err != nil {
		return nil, fsError(err)
	}
	var out []pluginsdk.Entry
	for _, f := range files {
		name, ok := strings.CutSuffix(f.Name(), ".json")
		if !ok || pluginsdk.ValidateName(name) != nil {
			continue // temporary files (".NAME.json.tmp-…") and strangers
		}
		rec, err := read(dir, name)
		if errors.Is(err, pluginsdk.ErrNotFound) {
			continue // deleted since ReadDir
		} else if err != nil {
			return nil, err
		}
		e := rec.entry(name)
		if rec.Kind != pluginsdk.KindPlain || !opts.Values {
			e.Value = pluginsdk.Value{} // a secret's value never leaves through List
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y pluginsdk.Entry) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// Get reads each name's file; a missing file is a per-name ErrNotFound.
func (b *backend) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	dir, err := b.accountDir()
	if err != nil {
		return nil, err
	}
	out := make([]pluginsdk.Result, len(names))
	for i, name := range names {
		if err := pluginsdk.ValidateName(name); err != nil {
			out[i].Err = err
			continue
		}
		rec, err := read(dir, name)
		out[i] = pluginsdk.Result{Entry: rec.entry(name), Err: err}
	}
	return out, nil
}

// Put checks and writes each entry; a bad name, kind or value is a per-name
// ErrInvalidArgument, and only a bad mode or an unusable directory fails the whole call.
//
// Each entry's outcome is reported with pluginsdk.Report as soon as it is final, so that a
// call that stops midway (ast's deadline, Ctrl-C, a crash of this process) still tells the
// user exactly what was written: this is the pattern to copy. When ctx ends, the entries
// not yet started are reported ErrNotAttempted and the call returns ctx's error. (A backend
// that waits on a store, a lock or a retry also calls pluginsdk.Heartbeat, or
// pluginsdk.Retrying before a back-off, every few seconds of the wait: the host fails a
// streaming call that is silent for AST_PLUGIN_TIMEOUT. This one never waits.)
func (b *backend) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	dir, err := b.accountDir()
	if err != nil {
		return nil, err
	}
	if mode != pluginsdk.Create && mode != pluginsdk.Update && mode != pluginsdk.Upsert {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "unknown put mode %v", mode)
	}
	if err := prepare(dir); err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	out := make([]pluginsdk.Result, len(entries))
	for i, e := range entries {
		if err := ctx.Err(); err != nil {
			return out, notAttempted(ctx, out, names, i, "written")
		}
		out[i] = put(dir, e, mode)
		out[i].Entry.Name = e.Name // a failed result names its entry too
		pluginsdk.Report(ctx, i, out[i])
	}
	return out, nil
}

// notAttempted fills out[from:] with ErrNotAttempted results for names[from:], reports
// each, and returns the call's error: ctx's. Only names never started are reported so; a
// name whose write was under way when the call stopped would be ErrOutcomeUnknown (left
// unreported, the host says so for it).
func notAttempted(ctx context.Context, out []pluginsdk.Result, names []string, from int, what string) error {
	for j := from; j < len(names); j++ {
		out[j] = pluginsdk.Result{Entry: pluginsdk.Entry{Name: names[j]},
			Err: pluginsdk.Errorf(pluginsdk.ErrNotAttempted, "entry %q: not %s: the call stopped before it (%v)", names[j], what, ctx.Err())}
		pluginsdk.Report(ctx, j, out[j])
	}
	return ctx.Err()
}

// put writes one entry: the per-name part of Put.
func put(dir string, e pluginsdk.Entry, mode pluginsdk.PutMode) pluginsdk.Result {
	if err := pluginsdk.ValidateName(e.Name); err != nil {
		return pluginsdk.Result{Err: err}
	}
	if !e.Kind.Valid() {
		return pluginsdk.Result{Err: pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: invalid kind %q", e.Name, e.Kind)}
	}
	if err := pluginsdk.ValidateValue(e.Value); err != nil { // the message has no value
		return pluginsdk.Result{Err: pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: %v", e.Name, err)}
	}
	now := time.Now().UTC()
	rec := record{Kind: e.Kind, Value: e.Value.Reveal(), Version: 1, CreatedAt: now, UpdatedAt: now}
	if mode != pluginsdk.Create {
		old, err := read(dir, e.Name)
		switch {
		case err == nil:
			rec.Version, rec.CreatedAt = old.Version+1, old.CreatedAt
		case !(errors.Is(err, pluginsdk.ErrNotFound) && mode == pluginsdk.Upsert):
			return pluginsdk.Result{Err: err} // ErrNotFound for Update
		}
	}
	if err := write(dir, e.Name, rec, mode == pluginsdk.Create); err != nil {
		return pluginsdk.Result{Err: err}
	}
	rec.Value = "" // a Put result carries no value
	return pluginsdk.Result{Entry: rec.entry(e.Name)}
}

// Delete removes each name's file; a missing file is a per-name ErrNotFound (so of
// clients that delete one name at once, one succeeds). Outcomes are reported as they
// become final, as in Put.
func (b *backend) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	dir, err := b.accountDir()
	if err != nil {
		return nil, err
	}
	out := make([]pluginsdk.Result, len(names))
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return out, notAttempted(ctx, out, names, i, "deleted")
		}
		out[i].Entry.Name = name
		if out[i].Err = pluginsdk.ValidateName(name); out[i].Err == nil {
			err := os.Remove(filepath.Join(dir, name+".json"))
			if errors.Is(err, fs.ErrNotExist) {
				out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
			} else if err != nil {
				out[i].Err = fsError(err)
			}
		}
		pluginsdk.Report(ctx, i, out[i])
	}
	return out, nil
}

// read returns the record of a name: ErrNotFound when it has no file.
func read(dir, name string) (record, error) {
	var rec record
	data, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return rec, pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
	} else if err != nil {
		return rec, fsError(err)
	}
	// The decoder's error could quote part of the value, so it is not passed on.
	if json.Unmarshal(data, &rec) != nil || !rec.Kind.Valid() {
		return rec, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "entry %q: %s is damaged", name, filepath.Join(dir, name+".json"))
	}
	key, err := loadKey(dir, false)
	if err != nil {
		return rec, err
	}
	var ok bool
	if rec.Value, ok = open(key, name, rec.Sealed); !ok {
		return rec, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "entry %q: %s cannot be decrypted with %s", name, filepath.Join(dir, name+".json"), keyPath(dir))
	}
	return rec, nil
}

func (r record) entry(name string) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: r.Kind, Value: pluginsdk.NewValue(r.Value), Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// write stores rec as NAME.json atomically: it writes a temporary file (0600) beside it,
// then links it to NAME.json when exclusive (failing with ErrAlreadyExists when the name
// exists) or renames it over NAME.json.
func write(dir, name string, rec record, exclusive bool) error {
	key, err := loadKey(dir, true)
	if err != nil {
		return err
	}
	rec.Sealed = seal(key, name, rec.Value)
	data, err := json.Marshal(rec)
	if err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInternal, "entry %q: encoding failed", name)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".json.tmp-*")
	if err != nil {
		return fsError(err)
	}
	defer os.Remove(tmp.Name()) // after a link the temporary name remains; after a rename it is gone
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fsError(err)
	}
	final := filepath.Join(dir, name+".json")
	if !exclusive {
		err = os.Rename(tmp.Name(), final)
	} else if err = os.Link(tmp.Name(), final); errors.Is(err, fs.ErrExist) {
		return pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", name)
	}
	return fsError(err)
}

// prepare creates the account's directory (0700) and checks that its file system tells
// NAME.json from name.json: entry names are case-sensitive (they become environment
// variables), and on a case-insensitive file system two names would share one file.
func prepare(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fsError(err)
	}
	probe, err := os.CreateTemp(dir, ".case-probe-*")
	if err != nil {
		return fsError(err)
	}
	probe.Close()
	defer os.Remove(probe.Name())
	if _, err := os.Stat(filepath.Join(dir, strings.ToUpper(filepath.Base(probe.Name())))); err == nil {
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"%s is on a case-insensitive file system: the example backend needs a case-sensitive one (set dir)", dir)
	}
	return nil
}

// fsError turns a file system error into a backend error; its text holds paths, never a
// value.
func fsError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrPermission):
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "%v", err)
	}
	return pluginsdk.Errorf(pluginsdk.ErrInternal, "%v", err)
}

var _ pluginsdk.Backend = (*backend)(nil)
