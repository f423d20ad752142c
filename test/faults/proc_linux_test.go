package faults

import "syscall"

// childAttr makes the kernel kill a daemon whose test binary died without
// running its cleanups, so none outlives the test.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
