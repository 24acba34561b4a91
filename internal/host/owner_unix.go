//go:build unix

package host

import (
	"os"
	"syscall"
)

// foreignOwner returns the owner of fi and true when it is neither the user running ast
// nor root.
func foreignOwner(fi os.FileInfo) (uid int, foreign bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	uid = int(st.Uid)
	return uid, uid != 0 && uid != os.Getuid()
}
