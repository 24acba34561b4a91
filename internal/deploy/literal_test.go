package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ast-cli/ast/internal/refs"
)

func TestLiteralKey(t *testing.T) {
	store := Store{Dir: filepath.Join(t.TempDir(), "state", "ast")}
	k1, err := store.LiteralKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 {
		t.Fatalf("key of %d bytes", len(k1))
	}
	p := filepath.Join(store.Dir, LiteralKeyFile)
	checkMode(t, p, 0o600)
	checkMode(t, store.Dir, 0o700)
	k2, err := store.LiteralKey()
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second LiteralKey: a different key (%v)", err)
	}
	other, err := Store{Dir: t.TempDir()}.LiteralKey()
	if err != nil || bytes.Equal(k1, other) {
		t.Fatalf("two users share a key (%v)", err)
	}

	for name, damage := range map[string]func(){
		"short":       func() { os.WriteFile(p, []byte("abcd\n"), 0o600) },
		"not hex":     func() { os.WriteFile(p, []byte(strings.Repeat("z", 64)), 0o600) },
		"group read":  func() { os.WriteFile(p, []byte(strings.Repeat("a", 64)), 0o600); os.Chmod(p, 0o640) },
		"symlink":     func() { os.Remove(p); os.Symlink("/etc/hostname", p) },
		"other write": func() { os.WriteFile(p, []byte(strings.Repeat("a", 64)), 0o600); os.Chmod(p, 0o602) },
	} {
		os.Remove(p)
		damage()
		if _, err := store.LiteralKey(); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: LiteralKey = %v, want an error naming %s", name, err, p)
		}
	}
}

func TestVariablesHideFlagLiterals(t *testing.T) {
	key := []byte("k")
	sources := []refs.Source{
		{Key: "BP", Kind: refs.SourceLiteral, Literal: "from-the-blueprint"},
		{Key: "FLAG", Kind: refs.SourceLiteral, Literal: "typed-secret"},
		{Key: "EMPTY", Kind: refs.SourceLiteral, Literal: ""},
		{Key: "REF", Kind: refs.SourceReference, Entry: "E", Version: 2},
	}
	vs := Variables(sources, map[string]bool{"FLAG": true, "EMPTY": true, "REF": true}, key)
	if vs[0].Literal != "from-the-blueprint" || vs[0].Hidden() {
		t.Errorf("a blueprint literal is not recorded as written: %+v", vs[0])
	}
	if v := vs[1]; v.Literal != "" || !v.Hidden() || *v.LiteralBytes != len("typed-secret") || v.LiteralHMAC != HashLiteral(key, "typed-secret") {
		t.Errorf("a --var literal: %+v", v)
	}
	if v := vs[2]; !v.Hidden() || *v.LiteralBytes != 0 {
		t.Errorf("an empty --var literal: %+v", v)
	}
	if v := vs[3]; v.Hidden() || v.Entry != "E" || v.From != FromFlag {
		t.Errorf("a --var reference: %+v", v)
	}
	if HashLiteral(key, "a") == HashLiteral([]byte("other"), "a") || HashLiteral(key, "a") == HashLiteral(key, "b") {
		t.Error("HashLiteral ignores its key or its text")
	}
}
