package engine

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time the calling thread has used (the caller locks
// its goroutine to the thread): unlike the wall clock, it does not count
// the time other processes of a shared machine took the core.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
