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
	"github.com/google/renameio/v2"

	"github.com/ast-cli/ast/internal/fsperm"
	"github.com/ast-cli/ast/pluginsdk"
)

// Modes of everything the backend creates. They are set on the descriptor (or, for a
// directory just made, by chmod), so the umask cannot widen or narrow them.
const (
	fileMode = fsperm.FileMode
	dirMode  = fsperm.DirMode
)

// MaxStoreBytes is the largest store file the backend opens or writes: 64 MiB. Measured
// on 2 shared cores under load (RELIABILITY.md, issue 12): a write into a 64 MiB store
// (decrypt, parse, encode, encrypt, fsync) takes about 6 s and 300 MB of memory, a tenth of
// the 60 s per-call timeout; the design's largest batch, 10,000 values of 64 KiB
// (640 MiB), took 57 to 64 s and 4 GB, past the timeout. 64 MiB holds 1,000 values of
// 64 KiB, or 10,000 of 6 KiB.
const MaxStoreBytes = 64 << 20

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
	if err := checkDirs(p); err != nil {
		return nil, err
	}
	f, err := fsperm.Open(p.store, os.O_RDONLY, fsperm.Private)
	if errors.Is(err, fs.ErrNotExist) {
		return store{}, nil
	}
	if err != nil {
		return nil, fileError("local store", p.store, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, ioError("checking", p.store, err)
	} else if fi.Size() > MaxStoreBytes {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the local store %s is %d MiB, more than the %d MiB the local backend opens (a larger store cannot be read and written within the per-call timeout); it was left unchanged: move entries to another account or backend",
			p.store, fi.Size()>>20, MaxStoreBytes>>20)
	}
	keys, err := loadKey()
	if err != nil {
		return nil, err
	}
	plaintext, err := age.Decrypt(f, keys.identities...)
	var data []byte
	if err == nil {
		// The file's size bounds the plaintext (age adds, never removes); the limit is
		// read again in case the file grows under the reader.
		data, err = io.ReadAll(io.LimitReader(plaintext, MaxStoreBytes+1))
		if err == nil && len(data) > MaxStoreBytes {
			err = errors.New("it grew past the size limit while being read")
		}
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
	doc, err := decodeStore(data)
	if err != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the local store %s cannot be parsed: %v; it was left unchanged", p.store, err)
	}
	if doc.account != "" && doc.account != p.account {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the local store %s belongs to account %q, not %q (was another account's store copied over it?); it was left unchanged: restore this account's store, or use it as account %s",
			p.store, doc.account, p.account, doc.account)
	}
	return doc.entries, nil
}

// writeStore encrypts s to keys and replaces p.store with it in one durable step: a temp
// file in the same directory, fsync, rename, fsync of the directory. A crash leaves either
// the old or the new file, never a mix; a stray temp file is removed by the next write.
// The caller holds the account's lock.
func writeStore(p paths, s store, keys *keyring) error {
	plaintext, err := s.encode(p.account)
	if err != nil {
		return pluginsdk.Errorf(pluginsdk.ErrInternal, "%v", err)
	}
	// age's overhead is a header and 16 bytes per 64 KiB chunk; the plaintext limit is
	// checked with that margin so that the written file opens again.
	if len(plaintext)+len(plaintext)/4096+1024 > MaxStoreBytes {
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"the write would make the local store %s about %d MiB, more than the %d MiB the local backend opens (a larger store cannot be read and written within the per-call timeout); nothing was written: move entries to another account or backend",
			p.store, len(plaintext)>>20, MaxStoreBytes>>20)
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
// last step; it creates the temp file with O_CREATE|O_EXCL (a planted link at the temp
// name fails the create, never followed) and sets its mode with fchmod.
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

// checkDirs applies fsperm's rule to the account's directories that exist: the data
// directory, vaults/ and the key file's directory.
func checkDirs(p paths) error {
	for _, d := range []string{p.dir, p.vaults, filepath.Dir(p.keyFile)} {
		if err := fsperm.CheckDirs(d); err != nil {
			return fileError("local backend's directory", d, err)
		}
	}
	return nil
}

// fileError words a failed open or check of path: a path that breaks fsperm's rule (a
// foreign owner, group/other access, a symbolic link) is ErrFailedPrecondition with the
// command that fixes it; anything else is an ioError. what names the file ("local
// store", "key file").
func fileError(what, path string, err error) error {
	var fe *fsperm.Error
	if errors.As(err, &fe) {
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the %s %v", what, fe)
	}
	return ioError("opening the "+what, path, err)
}

// readKey reads the age identity file at path. A missing file is fs.ErrNotExist
// (unwrapped, for the caller to decide); every other problem is ErrFailedPrecondition.
//
// The key file may be a symbolic link (the key_file setting, or a link to a backup
// medium); what is opened is judged on its descriptor: owned by the user or root and
// private, or it is refused, so that a key planted by another user (values would then be
// encrypted to their key) is never used.
func readKey(path string) (*keyring, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, ioError("opening the key file", path, err)
	}
	defer f.Close()
	if err := fsperm.CheckFile(f, fsperm.Private); err != nil {
		return nil, fileError("key file", path, err)
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
// a directory entry. A directory that exists must pass fsperm's rule (owned by the user
// or root, not writable by group or others): ErrFailedPrecondition with the fix.
func ensureDir(dir string) error {
	if err := fsperm.EnsureDir(dir, syncDir); err != nil {
		return fileError("local backend's directory", dir, err)
	}
	return nil
}

// lockFile takes an exclusive lock on path and returns its release. It waits while
// another process or Backend holds it, until ctx is done: ErrUnavailable, naming what
// (the resource the lock guards).
//
// The lock is flock(2) on a file of its own that is never removed, opened with
// O_NOFOLLOW and given mode 0600 on its descriptor (fsperm.OpenLock): a symbolic link
// planted at the lock's name is refused, and no file but the lock is ever changed.
func lockFile(ctx context.Context, path, what string) (unlock func(), err error) {
	l, err := fsperm.OpenLock(path)
	if err != nil {
		return nil, fileError("lock file", path, err)
	}
	ok, err := l.TryLock()
	if err != nil {
		l.Close()
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
		if err := l.Lock(ctx); err != nil {
			l.Close()
			if ctx.Err() == nil {
				return nil, ioError("locking", path, err)
			}
			return nil, pluginsdk.Errorf(pluginsdk.ErrUnavailable,
				"%s is busy: another ast process holds the lock %s (%v)", what, path, ctx.Err())
		}
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
