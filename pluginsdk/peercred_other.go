//go:build unix && !linux && !darwin && !freebsd

package pluginsdk

func peerUID(int) (int, error) { return 0, errNoPeerCredentials }
