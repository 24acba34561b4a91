package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ast-cli/ast/pluginsdk"
)

// Values never touch the disk in plain text: each is sealed with AES-256-GCM under a
// random key kept in ROOT/key (0600), the entry's name bound in as additional data so a
// sealed value cannot be moved to another name. A real backend delegates this to its
// store (Vault, a KMS); the example keeps it to the standard library.

const keyFile = "key"

// keyPath is the key file of the account directory dir: one key for all accounts.
func keyPath(dir string) string { return filepath.Join(filepath.Dir(dir), keyFile) }

// loadKey reads the key, creating it first when create is set and it does not exist.
func loadKey(dir string, create bool) ([]byte, error) {
	path := keyPath(dir)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, pluginsdk.Errorf(pluginsdk.ErrInternal, "generating the key: %v", err)
		}
		// Written beside the final name, then linked to it: a reader never sees a
		// half-written key, and of clients racing to create it, one wins.
		f, err := os.CreateTemp(filepath.Dir(path), ".key-*")
		if err != nil {
			return nil, fsError(err)
		}
		defer os.Remove(f.Name())
		_, err = f.Write(key)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fsError(err)
		}
		if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
			return loadKey(dir, false) // another client made it first: use theirs
		} else if err != nil {
			return nil, fsError(err)
		}
		return key, nil
	}
	if err != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the example backend's key %s cannot be read: %v", path, err)
	}
	if len(key) != 32 {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the example backend's key %s is damaged", path)
	}
	return key, nil
}

func aead(key []byte) cipher.AEAD {
	block, _ := aes.NewCipher(key) // a 32-byte key cannot fail
	gcm, _ := cipher.NewGCM(block)
	return gcm
}

// seal encrypts value for name: nonce followed by ciphertext.
func seal(key []byte, name, value string) []byte {
	g := aead(key)
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	return g.Seal(nonce, nonce, []byte(value), []byte(name))
}

// open decrypts what seal made for name.
func open(key []byte, name string, sealed []byte) (string, bool) {
	g := aead(key)
	if len(sealed) < g.NonceSize() {
		return "", false
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(name))
	return string(plain), err == nil
}
