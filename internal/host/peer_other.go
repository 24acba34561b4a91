//go:build !linux

package host

func socketPeerUID(int) (int, error) { return 0, errNoPeerCredentials }
