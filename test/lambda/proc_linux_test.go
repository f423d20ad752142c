package lambda

import "syscall"

// childAttr makes the kernel kill a function whose test binary died without
// running its cleanups, so none outlives the test.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
