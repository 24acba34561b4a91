//go:build unix

package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/ast-cli/ast/pluginsdk"
)

// TestModes checks the modes of everything the backend creates under a permissive and a
// strict umask. The umask is process-wide, so these tests do not run in parallel.
func TestModes(t *testing.T) {
	for _, umask := range []int{0, 0o077, 0o022} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			// The test's own directory is made first: under umask 0 it would be 0777, an
			// ancestor other users could write, which the backend refuses.
			dir := filepath.Join(t.TempDir(), "data")
			old := syscall.Umask(umask)
			defer syscall.Umask(old)

			b := newBackend(t, dir, "default")
			mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
			mustSucceed(t, mustPut(t, b, pluginsdk.Upsert, secret("A", 1)))
			want := map[string]os.FileMode{
				dir:                                     os.ModeDir | 0o700,
				filepath.Join(dir, "keys"):              os.ModeDir | 0o700,
				filepath.Join(dir, "vaults"):            os.ModeDir | 0o700,
				filepath.Join(dir, "keys", "local.key"): 0o600,
				filepath.Join(dir, "keys", "local.key.lock"): 0o600,
				filepath.Join(dir, "vaults", "default.age"):  0o600,
				filepath.Join(dir, "vaults", "default.lock"): 0o600,
			}
			for path, mode := range want {
				fi, err := os.Stat(path)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				if fi.Mode() != mode {
					t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
				}
			}
			// Nothing else is left behind (no temp files).
			var extra []string
			_ = filepath.WalkDir(dir, func(path string, _ os.DirEntry, _ error) error {
				if _, ok := want[path]; !ok {
					extra = append(extra, path)
				}
				return nil
			})
			if len(extra) > 0 {
				t.Errorf("unexpected files: %v", extra)
			}
		})
	}
}

// TestRefusesOpenFiles checks that a store or key file that group or others may access is
// refused by every call, with the chmod that fixes it, and left as it was.
func TestRefusesOpenFiles(t *testing.T) {
	for _, tc := range []struct {
		file string // "store" or "key"
		mode os.FileMode
	}{
		{"store", 0o640}, {"store", 0o604}, {"store", 0o660}, {"store", 0o606}, {"store", 0o620},
		{"key", 0o640}, {"key", 0o644}, {"key", 0o602},
	} {
		t.Run(tc.file+"_"+tc.mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			b := newBackend(t, dir, "default")
			mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
			path := b.paths.store
			if tc.file == "key" {
				path = b.paths.keyFile
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			before := takeSnapshot(t, dir)
			for call, err := range callAll(newBackend(t, dir, "default")) {
				if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), "chmod 600 "+path) {
					t.Errorf("%s: %v, want ErrFailedPrecondition with chmod 600 %s", call, err, path)
				}
			}
			if d := before.diff(takeSnapshot(t, dir)); d != "" {
				t.Errorf("a refused call changed the files: %s", d)
			}
			// The fix the message gives works.
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := newBackend(t, dir, "default").List(context.Background(), pluginsdk.ListOptions{}); err != nil {
				t.Errorf("List after chmod 600: %v", err)
			}
		})
	}
}

// callAll runs every data call once on b and returns the whole-call errors by call name.
// The Put is an Upsert of a new name: if it went ahead it would write.
func callAll(b *Backend) map[string]error {
	ctx := context.Background()
	errs := map[string]error{}
	_, errs["List"] = b.List(ctx, pluginsdk.ListOptions{Values: true})
	_, errs["Get"] = b.Get(ctx, []string{"A"})
	_, errs["Put"] = b.Put(ctx, []pluginsdk.Entry{secret("NEW", 0)}, pluginsdk.Upsert)
	_, errs["Delete"] = b.Delete(ctx, []string{"A"})
	return errs
}

// TestFailsClosed damages the store or its key in many ways and checks that every call
// fails with ErrFailedPrecondition and a message naming the file, and that no file
// changes: no write goes ahead on a store that cannot be read.
func TestFailsClosed(t *testing.T) {
	otherKey, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	type damage func(t *testing.T, p paths)
	editStore := func(edit func([]byte) []byte) damage {
		return func(t *testing.T, p paths) {
			data, err := os.ReadFile(p.store)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.store, edit(bytes.Clone(data)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	flip := func(at func(b []byte) int) damage {
		return editStore(func(b []byte) []byte { b[at(b)] ^= 0x01; return b })
	}
	mac := func(b []byte) int { return bytes.Index(b, []byte("\n--- ")) + 10 }
	// encryptStore replaces the store with plaintext encrypted to the right key: a
	// decryptable file that is not a valid store document.
	encryptStore := func(plaintext string) damage {
		return func(t *testing.T, p paths) {
			k, err := readKey(p.keyFile)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, err := age.Encrypt(&buf, k.recipient)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(w, plaintext)
			_ = w.Close()
			if err := os.WriteFile(p.store, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name    string
		damage  damage
		mention []string // what the message must name, besides the error code
	}{
		{"flipped byte in the header's recipient stanza", flip(func([]byte) int { return 40 }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"flipped byte in the header MAC", flip(mac), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"flipped byte in the payload nonce", flip(func(b []byte) int { return mac(b) + 45 }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"flipped byte in the payload", flip(func(b []byte) int { return len(b) - 20 }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"flipped last byte", flip(func(b []byte) int { return len(b) - 1 }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"truncated to half", editStore(func(b []byte) []byte { return b[:len(b)/2] }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"truncated by one byte", editStore(func(b []byte) []byte { return b[:len(b)-1] }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"empty file", editStore(func([]byte) []byte { return nil }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"not an age file", editStore(func([]byte) []byte { return []byte(`{"format":"ast-local-store"}`) }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"bytes appended", editStore(func(b []byte) []byte { return append(b, "junk"...) }), []string{"{store}", "cannot be decrypted", "left unchanged"}},
		{"not JSON", encryptStore("SECRET_LOOKING_TEXT = 1"), []string{"{store}", "cannot be parsed", "left unchanged"}},
		{"another format", encryptStore(`{"format":"something","version":1,"entries":[]}`), []string{"{store}", "cannot be parsed", "left unchanged"}},
		{"a newer store version", encryptStore(`{"format":"ast-local-store","version":2,"entries":[]}`), []string{"{store}", "version 2", "left unchanged"}},
		{"a duplicate name", encryptStore(`{"format":"ast-local-store","version":1,"entries":[` +
			`{"name":"A","kind":"secret","value":"x","version":1},{"name":"A","kind":"secret","value":"y","version":1}]}`),
			[]string{"{store}", "twice", "left unchanged"}},
		{"a bad kind", encryptStore(`{"format":"ast-local-store","version":1,"entries":[{"name":"A","kind":"x","value":"x","version":1}]}`),
			[]string{"{store}", "kind", "left unchanged"}},
		{"a wrong type", encryptStore(`{"format":"ast-local-store","version":"1","entries":[]}`), []string{"{store}", "cannot be parsed", "left unchanged"}},
		{"wrong key", func(t *testing.T, p paths) {
			if err := os.WriteFile(p.keyFile, []byte(otherKey.String()+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"{store}", "{key}", "cannot be decrypted", "left unchanged"}},
		{"missing key", func(t *testing.T, p paths) {
			if err := os.Remove(p.keyFile); err != nil {
				t.Fatal(err)
			}
		}, []string{"{key}", "missing"}},
		{"key file not an identity", func(t *testing.T, p paths) {
			if err := os.WriteFile(p.keyFile, []byte("AGE-SECRET-KEY-1NOTAKEY\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"{key}", "not an age identity file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := newBackend(t, dir, "default")
			mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0), plain("B", 0)))
			p := *b.paths
			tc.damage(t, p)
			before := takeSnapshot(t, dir)

			for call, err := range callAll(newBackend(t, dir, "default")) {
				if !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
					t.Errorf("%s: %v, want ErrFailedPrecondition", call, err)
					continue
				}
				for _, m := range tc.mention {
					m = strings.NewReplacer("{store}", p.store, "{key}", p.keyFile).Replace(m)
					if !strings.Contains(err.Error(), m) {
						t.Errorf("%s: the message does not mention %q: %v", call, m, err)
					}
				}
				if strings.Contains(err.Error(), "value of") || strings.Contains(err.Error(), "SECRET_LOOKING") {
					t.Errorf("%s: the message quotes the store's contents", call)
				}
			}
			// Another account in the same directory: it may not make a new key either.
			if tc.name == "missing key" {
				_, err := newBackend(t, dir, "other").Put(context.Background(), []pluginsdk.Entry{secret("A", 0)}, pluginsdk.Create)
				if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), p.keyFile) {
					t.Errorf("first write of another account with the key missing: %v, want ErrFailedPrecondition naming the key", err)
				}
			}
			if d := before.diff(takeSnapshot(t, dir)); d != "" {
				t.Errorf("a failed call changed the files: %s", d)
			}
		})
	}
}

// TestKeyIsMadeOnce checks that the first write makes the key, later writes and other
// accounts reuse it, and the store is a standard age file that the key opens by hand.
func TestKeyIsMadeOnce(t *testing.T) {
	dir := t.TempDir()
	mustSucceed(t, mustPut(t, newBackend(t, dir, "default"), pluginsdk.Create, secret("API_TOKEN", 0)))
	keyFile := filepath.Join(dir, "keys", "local.key")
	key1, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, mustPut(t, newBackend(t, dir, "default"), pluginsdk.Create, secret("B", 0)))
	mustSucceed(t, mustPut(t, newBackend(t, dir, "other"), pluginsdk.Create, secret("C", 0)))
	if key2, _ := os.ReadFile(keyFile); !bytes.Equal(key1, key2) {
		t.Fatal("the key file changed")
	}

	raw, err := os.ReadFile(filepath.Join(dir, "vaults", "default.age"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"API_TOKEN", "secret", "value of"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the store holds %q in plain text", s)
		}
	}
	ids, err := age.ParseIdentities(bytes.NewReader(key1))
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(raw), ids...)
	if err != nil {
		t.Fatal(err)
	}
	plaintext, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(plaintext, []byte(`{"format":"ast-local-store","version":1,`)) {
		t.Error("the decrypted store does not start with its format and version")
	}
}

func TestKeyFileSetting(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "nested", "my.key")
	b := New()
	if err := b.Configure(context.Background(), "default", map[string]string{"dir": dir, "key_file": keyFile}); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(keyFile)); err != nil || fi.Mode() != os.ModeDir|0o700 {
		t.Errorf("key directory: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys")); !os.IsNotExist(err) {
		t.Errorf("the default key directory was made (%v)", err)
	}
}

// TestStrayTempFiles checks that the next write removes the temp files a crash left, and
// nothing else.
func TestStrayTempFiles(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir, "default")
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
	vaults := filepath.Join(dir, "vaults")
	stray := []string{".default.age123", ".default.age8734682347234"}
	kept := []string{".default.agex1", ".default.age", ".other.age42", "default.age1", ".default-x.age5", "notes.txt"}
	for _, n := range append(append([]string{}, stray...), kept...) {
		if err := os.WriteFile(filepath.Join(vaults, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("B", 0)))
	for _, n := range stray {
		if _, err := os.Stat(filepath.Join(vaults, n)); !os.IsNotExist(err) {
			t.Errorf("stray temp file %s was not removed (%v)", n, err)
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(vaults, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
}
