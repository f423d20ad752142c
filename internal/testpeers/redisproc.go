package testpeers

import (
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RedisProcess is a real redis-server that a test stops and starts again on
// the same address (an outage), without persistence: a restart starts empty.
type RedisProcess struct {
	Addr string
	bin  string
	port int

	mu   sync.Mutex
	stop func()
}

// StartRedisProcess starts redis-server on a free port; it is stopped when
// the test ends.
func StartRedisProcess(t testing.TB) *RedisProcess {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testpeers: redis-server is not in PATH (apt-get install -y redis-server): %v", err)
	}
	r := &RedisProcess{bin: bin}
	var errs []string
	for range 3 {
		addr, stop, err := startRedisServer(bin)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		r.Addr, r.stop = addr, stop
		r.port, _ = strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
		t.Cleanup(r.Stop)
		return r
	}
	t.Fatalf("testpeers: start redis-server: %s", strings.Join(errs, "; "))
	return nil
}

// Stop kills the server (SIGKILL) and waits for it; nothing listens on Addr
// until Start.
func (r *RedisProcess) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}

// Start runs the server again on Addr and waits until it answers PING.
func (r *RedisProcess) Start(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		return
	}
	_, stop, err := startRedisServerOn(r.bin, r.port)
	if err != nil {
		t.Fatalf("testpeers: restart redis-server on %s: %v", r.Addr, err)
	}
	r.stop = stop
}
