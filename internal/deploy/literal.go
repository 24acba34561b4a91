package deploy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ast-cli/ast/internal/fsperm"
)

// A literal typed on the command line (--var KEY=text) may be a secret the user did not
// store; a deployment record and a dry-run plan keep only its length and a keyed hash,
// never its text. A bare SHA-256 of a short literal could be guessed by trying every
// candidate; HMAC-SHA256 under a random key of the user's cannot be, without the key.
// Literals written in a blueprint are on disk already and are recorded as written.

// LiteralKeyFile is the name of the hashing key under the state directory.
const LiteralKeyFile = "literal.key"

// literalKeyBytes is the key's length: 32 random bytes, stored as 64 hex digits.
const literalKeyBytes = 32

// LiteralKey returns the user's key for hashing command-line literals, STATE/literal.key
// (0600, in the 0700 state directory), creating it from crypto/rand on first use. The
// file must pass fsperm's rule for a private file; a damaged key is an error naming the
// file (remove it: only comparisons with older records are lost). Two commands creating
// it at once both end with the one that won.
func (s Store) LiteralKey() ([]byte, error) {
	if err := fsperm.EnsureDir(s.Dir, nil); err != nil {
		return nil, err
	}
	path := filepath.Join(s.Dir, LiteralKeyFile)
	if key, err := readLiteralKey(path); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key := make([]byte, literalKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := fsperm.CreateExclusive(path)
	if errors.Is(err, fs.ErrExist) {
		return readLiteralKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	_, err = io.WriteString(f, hex.EncodeToString(key)+"\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return key, nil
}

func readLiteralKey(path string) ([]byte, error) {
	f, err := fsperm.Open(path, os.O_RDONLY, fsperm.Private)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4*literalKeyBytes))
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != literalKeyBytes {
		return nil, fmt.Errorf("%s is not a key ast wrote (%d hex digits); remove it and ast makes a new one", path, 2*literalKeyBytes)
	}
	return key, nil
}

// HashLiteral returns "hmac-sha256:" and the hex HMAC-SHA256 of text under key: equal
// literals hash alike under one user's key, so a record still tells whether the same text
// was given, without holding it.
func HashLiteral(key []byte, text string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(text))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}
