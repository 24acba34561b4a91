//go:build !linux

package host

// attackerMain: the attacks of trust_linux_test.go run on Linux only.
func attackerMain() int { return 1 }
