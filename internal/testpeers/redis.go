package testpeers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// StartRedisServer runs a real redis-server on a free loopback port, without
// persistence, until the test ends, and returns its address. It fails the
// test when redis-server is not installed (scripts/test.sh installs it): the
// replica tests against real Redis must not silently skip.
func StartRedisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testpeers: redis-server is not in PATH (apt-get install -y redis-server): %v", err)
	}
	// The port is picked here and handed to redis-server, so another process
	// can grab it in between; try again with a new port when that happens.
	var errs []error
	for range 3 {
		addr, stop, err := startRedisServer(bin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t.Cleanup(stop)
		return addr
	}
	t.Fatalf("testpeers: start redis-server: %v", errors.Join(errs...))
	return ""
}

func startRedisServer(bin string) (addr string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	return startRedisServerOn(bin, port)
}

// startRedisServerOn runs redis-server on port, without persistence.
func startRedisServerOn(bin string, port int) (addr string, stop func(), err error) {
	addr = "127.0.0.1:" + strconv.Itoa(port)
	out := &tailBuffer{max: 8 << 10}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status of a server we kill says nothing
		close(exited)
	}()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(addr) == nil {
			return addr, stop, nil
		}
		select {
		case <-exited:
			return "", nil, fmt.Errorf("redis-server on port %d exited: %v\n%s", port, cmd.ProcessState, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on port %d does not answer PING after 10s\n%s", port, out)
		}
	}
}

// ping sends PING in Redis's inline form and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
