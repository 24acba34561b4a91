package fsperm

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// Lock is an flock(2) lock on a file of its own, opened with Open (no symbolic link
// followed, mode 0600 on the descriptor). The file is never removed: removing a lock file
// races with a process that has just opened it. Each Lock opens the file anew, so two
// Locks in one process exclude each other as two processes do.
type Lock struct {
	f *os.File
}

// OpenLock opens (creating it) the lock file at path. It does not lock.
func OpenLock(path string) (*Lock, error) {
	f, err := Open(path, os.O_RDWR|os.O_CREATE, Private)
	if err != nil {
		return nil, err
	}
	return &Lock{f: f}, nil
}

// TryLock takes the lock if it is free and reports whether it did.
func (l *Lock) TryLock() (bool, error) {
	err := flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// Lock waits for the lock until ctx ends (then ctx's error). The wait is a blocking
// flock in a goroutine, which wakes as soon as the holder is done; when ctx ends first,
// the goroutine closes the file (and with it a lock it may still get).
func (l *Lock) Lock(ctx context.Context) error {
	if ok, err := l.TryLock(); ok || err != nil {
		return err
	}
	done := make(chan error, 1)
	f := l.f
	go func() { done <- flock(f, syscall.LOCK_EX) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		l.f = nil
		go func() { <-done; f.Close() }()
		return ctx.Err()
	}
}

// Close releases the lock and closes the file.
func (l *Lock) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// LockPath opens the lock file at path and waits for its lock until ctx ends (then
// ctx's error). The returned function releases it.
func LockPath(ctx context.Context, path string) (unlock func(), err error) {
	l, err := OpenLock(path)
	if err != nil {
		return nil, err
	}
	if err := l.Lock(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return func() { l.Close() }, nil
}
