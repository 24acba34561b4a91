package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"

	"github.com/ast-cli/ast/pluginsdk"
)

// Modes of everything the backend creates. They are set with chmod after creation, so
// the umask cannot widen or narrow them.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// keyring is an account's age identity: identities decrypt, recipient encrypts.
type keyring struct {
	identities []age.Identity
	recipient  age.Recipient
}

// readStore reads and decrypts the store at p.store. A missing file is an empty store and
// needs no key; reading creates nothing. loadKey is called only when the file exists.
//
// Errors (all ErrFailedPrecondition, and the file is never touched): the file is open to
// group or others; the key file is missing, open to others or unusable; the file cannot
// be decrypted or parsed. Other I/O errors are ErrInternal.
func readStore(p paths, loadKey func() (*keyring, error)) (store, error) {
	f, err := os.Open(p.store)
	if errors.Is(err, fs.ErrNotExist) {
		return store{}, nil
	}
	if err != nil {
		return nil, ioError("opening the local store", p.store, err)
	}
	defer f.Close()
	if err := checkPrivate(f, "local store"); err != nil {
		return nil, err
	}
	keys, err := loadKey()
	if err != nil {
		return nil, err
	}
	plaintext, err := age.Decrypt(f, keys.identities...)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(plaintext)
	}
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		reason := fmt.Sprintf("it is damaged or truncated (age: %v)", err)
		if errors.As(err, &noMatch) {
			reason = fmt.Sprintf("the key in %s does not open it (a different key, or a damaged file header)", p.keyFile)
		}
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the local store %s cannot be decrypted: %s; it was left unchanged", p.store, reason)
	}
	s, err := decodeStore(data)
	if err != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the local store %s cannot be parsed: %v; it was left unchanged", p.store, err)
	}
	return s, nil
}

// writeStore encrypts s to keys and replaces p.store with it in one durable step: a temp
// file in the same directory, fsync, rename, fsync of the directory. A crash leaves either
// the old or the new file, never a mix; a stray temp file is removed by the next write.
// The caller holds the account's lock.
func writeStore(p paths, s store, keys *keyring) error {
	plaintext, err := s.encode()
	if err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInternal, "%v", err)
	}
	removeStrayTemps(p.vaults, filepath.Base(p.store))
	return writeFileAtomic(p.store, func(w io.Writer) error {
		enc, err := age.Encrypt(w, keys.recipient)
		if err != nil {
			return err
		}
		if _, err := enc.Write(plaintext); err != nil {
			return err
		}
		return enc.Close()
	})
}

// writeFileAtomic writes path through a temp file in its directory (mode 0600 whatever
// the umask), fsyncs it, renames it over path and fsyncs the directory, because rename
// alone is not durable until the directory entry is on disk. renameio does all but the
// last step.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	pending, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(fileMode))
	if err != nil {
		return ioError("creating a temp file for", path, err)
	}
	defer pending.Cleanup()
	if err := write(pending); err != nil {
		return ioError("writing", path, err)
	}
	if err := pending.CloseAtomicallyReplace(); err != nil {
		return ioError("replacing", path, err)
	}
	if err := syncDir(dir); err != nil {
		return ioError("syncing the directory of", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeStrayTemps removes the temp files a crashed write of base left in dir. renameio
// names them "." + base + decimal digits, so the match cannot hit another account's
// files (an account name has no dot). Errors are ignored: a stray file wastes space,
// nothing more.
func removeStrayTemps(dir, base string) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base
	for _, d := range names {
		rest, ok := strings.CutPrefix(d.Name(), prefix)
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			_ = os.Remove(filepath.Join(dir, d.Name()))
		}
	}
}

// checkPrivate refuses a file that group or others may read or write: it holds secrets
// or the key to them. what names the file in the message ("local store", "key file").
func checkPrivate(f *os.File, what string) error {
	fi, err := f.Stat()
	if err != nil {
		return ioError("checking", f.Name(), err)
	}
	if !fi.Mode().IsRegular() {
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the %s %s is not a regular file", what, f.Name())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the %s %s is open to group or others (mode %04o) and ast refuses to use it; fix it with: chmod 600 %s",
			what, f.Name(), perm, f.Name())
	}
	return nil
}

// readKey reads the age identity file at path. A missing file is fs.ErrNotExist
// (unwrapped, for the caller to decide); every other problem is ErrFailedPrecondition.
func readKey(path string) (*keyring, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, ioError("opening the key file", path, err)
	}
	defer f.Close()
	if err := checkPrivate(f, "key file"); err != nil {
		return nil, err
	}
	// age's parse errors never quote key material, but they are reduced to a fixed text
	// anyway: the key file is the one file whose contents must never reach a log.
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the key file %s is not an age identity file (an AGE-SECRET-KEY-1... line)", path)
	}
	k := &keyring{identities: ids}
	switch id := ids[0].(type) {
	case *age.X25519Identity:
		k.recipient = id.Recipient()
	case *age.HybridIdentity:
		k.recipient = id.Recipient()
	default:
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the key file %s does not start with an age X25519 identity", path)
	}
	return k, nil
}

// createKey returns the key at p.keyFile, generating it first when it does not exist and
// no store exists in p.vaults. A store without its key means the key was lost or moved:
// a new key would strand those stores, so createKey fails with ErrFailedPrecondition
// naming the key file instead. Generation runs under a lock on KEYFILE.lock and rechecks,
// so concurrent first writes of several accounts agree on one key.
func createKey(ctx context.Context, p paths) (*keyring, error) {
	if k, err := readKey(p.keyFile); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := ensureDir(filepath.Dir(p.keyFile)); err != nil {
		return nil, err
	}
	unlock, err := lockFile(ctx, p.keyFile+".lock", "the key file "+p.keyFile)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if k, err := readKey(p.keyFile); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := refuseOrphanedStores(p); err != nil {
		return nil, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInternal, "generating the key: %v", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# created: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# public key: %s\n", id.Recipient())
	fmt.Fprintf(&b, "# The key of ast's local backend stores in %s.\n", p.vaults)
	fmt.Fprintf(&b, "# Back it up with them: without this file they cannot be decrypted.\n")
	fmt.Fprintf(&b, "%s\n", id)
	removeStrayTemps(filepath.Dir(p.keyFile), filepath.Base(p.keyFile))
	if err := writeFileAtomic(p.keyFile, func(w io.Writer) error {
		_, err := w.Write(b.Bytes())
		return err
	}); err != nil {
		return nil, err
	}
	return &keyring{identities: []age.Identity{id}, recipient: id.Recipient()}, nil
}

// refuseOrphanedStores fails when a store exists in p.vaults while the key file does not.
func refuseOrphanedStores(p paths) error {
	stores, _ := filepath.Glob(filepath.Join(p.vaults, "*.age"))
	if len(stores) == 0 {
		return nil
	}
	var names []string
	for _, s := range stores[:min(len(stores), 3)] {
		names = append(names, filepath.Base(s))
	}
	if len(stores) > 3 {
		names = append(names, "...")
	}
	return missingKeyError(p, fmt.Sprintf("the local stores in %s (%s) need it", p.vaults, strings.Join(names, ", ")))
}

func missingKeyError(p paths, why string) error {
	return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
		"the key file %s is missing but %s; ast does not make a new key while a store needs the old one: "+
			"restore the key file from a backup, or set the account's %q setting to where it is",
		p.keyFile, why, SettingKeyFile)
}

// ensureDir creates dir (and missing parents) with mode 0700 whatever the umask, and
// fsyncs the parent of each directory it makes, so that a durable store is not lost with
// a directory entry. A directory that exists is left as it is; a file in its place is
// ErrFailedPrecondition.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "%s is not a directory", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return ioError("checking the directory", dir, err)
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := ensureDir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); errors.Is(err, fs.ErrExist) {
		return nil // made by a concurrent writer
	} else if err != nil {
		return ioError("creating the directory", dir, err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return ioError("setting the mode of", dir, err)
	}
	if err := syncDir(parent); err != nil {
		return ioError("syncing the directory", parent, err)
	}
	return nil
}

// lockFile takes an exclusive lock on path (created with mode 0600) and returns its
// release. It waits while another process or Backend holds it, until ctx is done:
// ErrUnavailable, naming what (the resource the lock guards).
//
// The lock is flock(2) on a file of its own that is never removed (removing a lock file
// races with a process that has just opened it). Each call opens the file anew, so two
// Backends in one process exclude each other as two processes do.
func lockFile(ctx context.Context, path, what string) (unlock func(), err error) {
	l := flock.New(path, flock.SetPermissions(fileMode))
	ok, err := l.TryLock()
	if err != nil {
		return nil, ioError("locking", path, err)
	}
	if !ok {
		// Give up a moment before the call's deadline, so that this error, which says
		// what is busy, reaches the user rather than the host's "did not answer".
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-time.Second))
			defer cancel()
		}
		// Blocking flock wakes up as soon as the holder is done, where polling would
		// sleep; the goroutine lets ctx end the wait.
		done := make(chan error, 1)
		go func() { done <- l.Lock() }()
		select {
		case err = <-done:
			if err != nil {
				return nil, ioError("locking", path, err)
			}
		case <-ctx.Done():
			go func() {
				if <-done == nil {
					_ = l.Close()
				}
			}()
			return nil, pluginsdk.Errorf(pluginsdk.ErrUnavailable,
				"%s is busy: another ast process holds the lock %s (%v)", what, path, ctx.Err())
		}
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != fileMode {
		_ = os.Chmod(path, fileMode)
	}
	return func() { _ = l.Close() }, nil
}

// ioError is an unexpected I/O failure. A permission error is ErrPermissionDenied (the
// user can fix it), anything else ErrInternal. Messages name paths, never contents.
func ioError(doing, path string, err error) error {
	code := pluginsdk.ErrInternal
	if errors.Is(err, fs.ErrPermission) {
		code = pluginsdk.ErrPermissionDenied
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return pluginsdk.Errorf(code, "%s %s: %v", doing, path, err)
}
