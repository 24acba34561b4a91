//go:build !unix

package host

import "time"

// sweepSocketDirs does nothing where ast has no Unix socket directories to leave behind.
func sweepSocketDirs(string, time.Time) []string { return nil }
