package peers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Fauxqs is the SQS emulator of test/fauxqs running as a child process on
// 127.0.0.1. It exits when its standard input closes, so it does not outlive
// a killed parent.
type Fauxqs struct {
	Endpoint string
	cmd      *exec.Cmd
	stdin    io.Closer
	exited   chan struct{}
	out      *bytes.Buffer
}

// StartFauxqs runs test/fauxqs/server.mjs under node, installing its pinned
// node_modules with npm ci first if they are missing.
func StartFauxqs(moduleRoot string) (*Fauxqs, error) {
	dir := filepath.Join(moduleRoot, "test", "fauxqs")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fauxqs", "package.json")); err != nil {
		npm := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		npm.Dir = dir
		if out, err := npm.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	f := &Fauxqs{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{}), out: &bytes.Buffer{}}
	f.cmd = exec.Command("node", "server.mjs", strconv.Itoa(port))
	f.cmd.Dir = dir
	f.cmd.Stdout, f.cmd.Stderr = f.out, f.out
	if f.stdin, err = f.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := f.cmd.Start(); err != nil {
		return nil, fmt.Errorf("node server.mjs: %w", err)
	}
	go func() { _ = f.cmd.Wait(); close(f.exited) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := hc.Get(f.Endpoint + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return f, nil
			}
		}
		select {
		case <-f.exited:
			return nil, fmt.Errorf("fauxqs exited: %v\n%s", f.cmd.ProcessState, f.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, errors.New("fauxqs not healthy after 30s")
		}
	}
}

// PID is the process id of node.
func (f *Fauxqs) PID() int { return f.cmd.Process.Pid }

// Stop ends the process.
func (f *Fauxqs) Stop() {
	f.stdin.Close()
	select {
	case <-f.exited:
	case <-time.After(3 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
	}
}

// FreePort returns a TCP port free on 127.0.0.1 a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ModuleRoot finds the directory holding go.mod at or above the working
// directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
