package faults

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestDamagedStore damages the local store or its key file in the ways disks and people
// do, then runs every command that reads or writes the store: each must fail with an
// error that names the damaged file, leave the store byte for byte as it was, and write
// nothing (no new file, no temp file).
func TestDamagedStore(t *testing.T) {
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	otherKey := other.String() + "\n"
	cases := []struct {
		name   string
		damage func(t *testing.T, store, key string, orig []byte)
		// want is a part of the error message (besides the file's path).
		want string
		// keyFileNamed: the message names the key file rather than the store.
		keyFileNamed bool
	}{
		{name: "flipped byte in the header", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			flip(t, store, orig, 30)
		}},
		{name: "flipped byte in the header MAC", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			flip(t, store, orig, bytes.Index(orig, []byte("\n---"))+10)
		}},
		{name: "flipped byte in the payload", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			flip(t, store, orig, len(orig)/2+len(orig)/4)
		}},
		{name: "flipped last byte", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			flip(t, store, orig, len(orig)-1)
		}},
		{name: "truncated to half", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			writeKeepMode(t, store, orig[:len(orig)/2])
		}},
		{name: "truncated by one byte", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			writeKeepMode(t, store, orig[:len(orig)-1])
		}},
		{name: "truncated to the header", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			writeKeepMode(t, store, orig[:bytes.Index(orig, []byte("\n---"))+1])
		}},
		{name: "empty file", want: "cannot be decrypted", damage: func(t *testing.T, store, _ string, orig []byte) {
			writeKeepMode(t, store, nil)
		}},
		{name: "key file missing", want: "is missing", keyFileNamed: true, damage: func(t *testing.T, _, key string, _ []byte) {
			if err := os.Remove(key); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "key file of another key", want: "does not open it", keyFileNamed: true, damage: func(t *testing.T, _, key string, _ []byte) {
			writeKeepMode(t, key, []byte(otherKey))
		}},
		{name: "key file garbled", want: "not an age identity", keyFileNamed: true, damage: func(t *testing.T, _, key string, _ []byte) {
			writeKeepMode(t, key, []byte("AGE-SECRET-KEY-1NOTAKEY\n"))
		}},
		{name: "key file empty", want: "not an age identity", keyFileNamed: true, damage: func(t *testing.T, _, key string, _ []byte) {
			writeKeepMode(t, key, nil)
		}},
	}
	refused := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			s.must(s.run("secrets", "create", "FIRST", "--value", "one"))
			s.must(s.runIn("two\n", "secrets", "create", "SECOND", "--plain"))
			store := filepath.Join(s.dataDir, "vaults", "default.age")
			key := filepath.Join(s.dataDir, "keys", "local.key")
			orig, err := os.ReadFile(store)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, store, key, orig)
			damaged := snapshot(t, s.root, s.tmp)
			env := s.writeInput("more.env", []byte("THIRD=three\nFOURTH=four\n"))

			named := store
			if tc.keyFileNamed {
				named = key
			}
			for _, args := range [][]string{
				{"secrets", "list"},
				{"secrets", "list", "--values", "--output", "json"},
				{"secrets", "create", "NEW", "--value", "new"},
				{"secrets", "create", "NEW", "--value", "new", "--plain"},
				{"secrets", "update", "FIRST", "--value", "changed"},
				{"secrets", "delete", "FIRST"},
				{"secrets", "import", "--file", env},
				{"secrets", "import", "--file", env, "--overwrite"},
				{"run", "--var", "X=@FIRST", "--", "true"},
			} {
				r := s.run(args...)
				if r.code != 1 {
					t.Errorf("want exit 1:\n%s", r)
					continue
				}
				if !strings.Contains(r.stderr, named) || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("the error should name %s and say %q:\n%s", named, tc.want, r)
				}
				if r.stdout != "" {
					t.Errorf("nothing should be printed on stdout:\n%s", r)
				}
				if diff := diffSnapshots(damaged, snapshot(t, s.root, s.tmp)); diff != "" {
					t.Fatalf("%s changed the files: %s", strings.Join(args, " "), diff)
				}
				refused++
			}
			s.assertNoStrays(tc.name)
		})
	}
	t.Logf("damage summary: damages=%d commands_refused=%d files_changed=0", len(cases), refused)
}

// flip inverts one byte of the file at offset i.
func flip(t *testing.T, path string, orig []byte, i int) {
	t.Helper()
	b := bytes.Clone(orig)
	b[i] ^= 0xff
	writeKeepMode(t, path, b)
}

// writeKeepMode replaces a file's content in place (same inode, same mode).
func writeKeepMode(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
