//go:build unix

package local

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/ast-cli/ast/pluginsdk"
)

// nobody is the uid of the other local user in the attack tests.
const nobody = 65534

// TestRefusesForeignOrWritable makes each directory and file the backend uses writable by
// others or owned by another uid, and checks that every call refuses with the path and
// the command that fixes it, writes nothing, and works again after that command.
func TestRefusesForeignOrWritable(t *testing.T) {
	type tc struct {
		name  string
		path  func(p paths) string
		chown bool // chown to nobody (needs root) instead of chmod
		mode  os.FileMode
		fix   string // command prefix of the fix
	}
	cases := []tc{
		{"data dir 0777", func(p paths) string { return p.dir }, false, 0o777, "chmod go-w "},
		{"data dir 0770", func(p paths) string { return p.dir }, false, 0o770, "chmod go-w "},
		{"vaults 0757", func(p paths) string { return p.vaults }, false, 0o757, "chmod go-w "},
		{"keys 0777", func(p paths) string { return filepath.Dir(p.keyFile) }, false, 0o777, "chmod go-w "},
		{"data dir foreign", func(p paths) string { return p.dir }, true, 0, "chown "},
		{"vaults foreign", func(p paths) string { return p.vaults }, true, 0, "chown "},
		{"keys foreign", func(p paths) string { return filepath.Dir(p.keyFile) }, true, 0, "chown "},
		{"key file foreign", func(p paths) string { return p.keyFile }, true, 0, "chown "},
		{"store foreign", func(p paths) string { return p.store }, true, 0, "chown "},
	}
	refused := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.chown && os.Geteuid() != 0 {
				t.Skip("chown to another uid needs root")
			}
			dir := filepath.Join(t.TempDir(), "data")
			b := newBackend(t, dir, "default")
			mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
			path := c.path(*b.paths)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.chown {
				err = os.Chown(path, nobody, nobody)
			} else {
				err = os.Chmod(path, c.mode)
			}
			if err != nil {
				t.Fatal(err)
			}
			before := takeSnapshot(t, dir)
			for call, err := range callAll(newBackend(t, dir, "default")) {
				if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), path+" ") ||
					!strings.Contains(err.Error(), "fix it with: "+c.fix) {
					t.Errorf("%s: %v, want ErrFailedPrecondition naming %s and %q", call, err, path, c.fix)
				} else {
					refused++
				}
			}
			if d := before.diff(takeSnapshot(t, dir)); d != "" {
				t.Errorf("a refused call changed the files: %s", d)
			}
			if c.chown {
				err = os.Chown(path, os.Getuid(), os.Getgid())
			} else {
				err = os.Chmod(path, fi.Mode().Perm())
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newBackend(t, dir, "default").List(context.Background(), pluginsdk.ListOptions{}); err != nil {
				t.Errorf("List after the fix: %v", err)
			}
		})
	}
	t.Logf("trust summary: %d calls refused over %d cases", refused, len(cases))
}

// TestForeignKeyPlantedAsOtherUser has another uid write its own key file where the key
// belongs (in a directory it was given write access to, then taken back), and checks
// that a first write refuses it instead of encrypting to it.
func TestForeignKeyPlantedAsOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	dir := filepath.Join(t.TempDir(), "data")
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != "/tmp" && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // let nobody reach keys/
	}
	os.Chown(keys, nobody, nobody)
	id, _ := age.GenerateX25519Identity()
	cmd := exec.Command("sh", "-c", `umask 077; printf '%s\n' "$KEY" > "$DIR/local.key"`)
	cmd.Env = []string{"KEY=" + id.String(), "DIR=" + keys}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("planting the key as uid %d: %v %s", nobody, err, out)
	}
	os.Chown(keys, 0, 0) // the directory is the user's again; the file stays nobody's
	_, err := newBackend(t, dir, "default").Put(context.Background(), []pluginsdk.Entry{secret("A", 0)}, pluginsdk.Create)
	keyFile := filepath.Join(keys, "local.key")
	if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), keyFile+" is owned by") ||
		!strings.Contains(err.Error(), "chown ") {
		t.Errorf("Put with a key of uid %d: %v, want it refused with the chown", nobody, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "vaults", "default.age")); !os.IsNotExist(err) {
		t.Errorf("a store was written with the foreign key (%v)", err)
	}
}

// TestSymlinksNotFollowed plants symbolic links at the lock and store names, and at
// every temp name a write could pick, pointing at a victim file, and checks that no call
// follows them: the victim keeps its content and mode.
func TestSymlinksNotFollowed(t *testing.T) {
	cases := []struct {
		name string
		link func(p paths) string
	}{
		{"store lock", func(p paths) string { return p.lock }},
		{"key lock", func(p paths) string { return p.keyFile + ".lock" }},
		{"store", func(p paths) string { return p.store }},
	}
	notFollowed := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			victim := filepath.Join(root, "victim")
			if err := os.WriteFile(victim, []byte("victim"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "data")
			p, _ := resolvePaths("default", map[string]string{SettingDir: dir}, os.Getenv)
			for _, d := range []string{p.vaults, filepath.Dir(p.keyFile)} {
				os.MkdirAll(d, 0o700)
			}
			os.Chmod(dir, 0o700)
			link := c.link(p)
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			for call, err := range callAll(newBackend(t, dir, "default")) {
				if c.name != "store" && call != "Put" {
					continue // reads take no lock, and this Delete has nothing to delete
				}
				if err == nil || !strings.Contains(err.Error(), "symbolic link") {
					t.Errorf("%s with a link at %s: %v, want the link refused", call, link, err)
				}
			}
			fi, _ := os.Stat(victim)
			got, _ := os.ReadFile(victim)
			if string(got) != "victim" || fi.Mode().Perm() != 0o644 {
				t.Errorf("the victim changed: mode %v", fi.Mode())
			} else {
				notFollowed++
			}
		})
	}
	// Temp files: renameio creates them O_EXCL under fresh random names; a link at one
	// fails the create and the write takes another name. Plant links at many names of
	// the pattern and write.
	t.Run("temp names", func(t *testing.T) {
		root := t.TempDir()
		victim := filepath.Join(root, "victim")
		os.WriteFile(victim, []byte("victim"), 0o644)
		dir := filepath.Join(root, "data")
		b := newBackend(t, dir, "default")
		mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
		for i := range 200 {
			os.Symlink(victim, filepath.Join(b.paths.vaults, ".default.age"+strconv.Itoa(i)))
		}
		for i := range 20 {
			mustSucceed(t, mustPut(t, b, pluginsdk.Upsert, secret("A", i+1)))
		}
		got, _ := os.ReadFile(victim)
		if fi, _ := os.Stat(victim); string(got) != "victim" || fi.Mode().Perm() != 0o644 {
			t.Errorf("a temp write followed a link")
		} else {
			notFollowed++
		}
	})
	t.Logf("symlink summary: %d planted-link cases, %d not followed", len(cases)+1, notFollowed)
}

// TestStoreNamesItsAccount copies one account's store over another's and checks that it
// is refused and left unchanged; a store written without the account field is still
// read.
func TestStoreNamesItsAccount(t *testing.T) {
	dir := t.TempDir()
	dev, prod := newBackend(t, dir, "dev"), newBackend(t, dir, "prod")
	mustSucceed(t, mustPut(t, dev, pluginsdk.Create, secret("DEV_ONLY", 0)))
	mustSucceed(t, mustPut(t, prod, pluginsdk.Create, secret("PROD_ONLY", 0)))
	data, _ := os.ReadFile(dev.paths.store)
	if err := os.WriteFile(prod.paths.store, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, dir)
	for call, err := range callAll(newBackend(t, dir, "prod")) {
		if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), `belongs to account "dev", not "prod"`) {
			t.Errorf("%s on dev's store copied over prod's: %v", call, err)
		}
	}
	if d := before.diff(takeSnapshot(t, dir)); d != "" {
		t.Errorf("a refused call changed the files: %s", d)
	}

	// A store of the earlier format (no account) opens, and names its account once
	// written.
	keys, err := readKey(prod.paths.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, keys.recipient)
	w.Write([]byte(`{"format":"ast-local-store","version":1,"entries":[]}`))
	w.Close()
	os.WriteFile(prod.paths.store, buf.Bytes(), 0o600)
	mustSucceed(t, mustPut(t, newBackend(t, dir, "prod"), pluginsdk.Create, secret("B", 0)))
	os.Rename(prod.paths.store, filepath.Join(dir, "vaults", "other.age"))
	if _, err := newBackend(t, dir, "other").List(context.Background(), pluginsdk.ListOptions{}); err == nil ||
		!strings.Contains(err.Error(), `belongs to account "prod"`) {
		t.Errorf("a store rewritten after the upgrade does not name its account: %v", err)
	}
}

// TestStoreSizeLimit checks both sides of MaxStoreBytes: a store file over it is refused
// before decryption, and a write that would pass it is refused before anything is
// written.
func TestStoreSizeLimit(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir, "default")
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))

	// A batch whose values add up past the limit: 1,100 values of 64 KiB (68.75 MiB).
	big := strings.Repeat("v", pluginsdk.MaxValueBytes)
	entries := make([]pluginsdk.Entry, 1100)
	for i := range entries {
		entries[i] = pluginsdk.Entry{Name: nameOf(i), Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(big)}
	}
	before := takeSnapshot(t, dir)
	_, err := b.Put(context.Background(), entries, pluginsdk.Create)
	if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), "64 MiB") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("Put past the limit: %v", err)
	}
	if d := before.diff(takeSnapshot(t, dir)); d != "" {
		t.Errorf("a refused write changed the files: %s", d)
	}

	// A store file over the limit (a sparse file: only its size matters).
	other := newBackend(t, dir, "huge")
	f, _ := os.OpenFile(other.paths.store, os.O_CREATE|os.O_WRONLY, 0o600)
	f.Truncate(MaxStoreBytes + 1)
	f.Close()
	for call, err := range callAll(other) {
		if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), "more than the 64 MiB") {
			t.Errorf("%s of a store over the limit: %v", call, err)
		}
	}
}
