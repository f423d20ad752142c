package testpeers

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fauxqsDir finds test/fauxqs by walking up from the working directory (a
// test runs in its package's directory) to the module root.
func fauxqsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "test", "fauxqs")
			if _, err := os.Stat(filepath.Join(d, "package-lock.json")); err != nil {
				return "", fmt.Errorf("module root %s has no test/fauxqs/package-lock.json: %w", dir, err)
			}
			return d, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// installOnce remembers, per test binary, that node_modules was checked.
var installOnce struct {
	sync.Mutex
	done bool
}

// ensureNodeModules runs `npm ci` in dir unless node_modules already holds
// the fauxqs version that package-lock.json pins. Test binaries of several
// packages run in parallel, so the check and the install happen under an
// exclusive file lock: npm ci first deletes node_modules, and a second
// process must neither see that half-built tree nor start its own install.
func ensureNodeModules(t testing.TB, dir string) {
	t.Helper()
	installOnce.Lock()
	defer installOnce.Unlock()
	if installOnce.done {
		return
	}
	unlock, err := lockFile(filepath.Join(dir, ".npm-ci.lock"))
	if err != nil {
		t.Fatalf("testpeers: lock %s: %v", dir, err)
	}
	defer unlock()

	want, err := lockedFauxqsVersion(dir)
	if err != nil {
		t.Fatalf("testpeers: %v", err)
	}
	if installedFauxqsVersion(dir) != want {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("testpeers: fauxqs is not installed in %s and npm is not in PATH (install Node.js and npm): %v", dir, err)
		}
		start := time.Now()
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("testpeers: npm ci in %s: %v\n%s", dir, err, out)
		}
		if got := installedFauxqsVersion(dir); got != want {
			t.Fatalf("testpeers: npm ci in %s installed fauxqs %q, want %q", dir, got, want)
		}
		t.Logf("testpeers: npm ci in %s took %s", dir, time.Since(start).Round(time.Millisecond))
	}
	installOnce.done = true
}

func lockedFauxqsVersion(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", err
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		return "", fmt.Errorf("%s/package-lock.json: %w", dir, err)
	}
	v := lock.Packages["node_modules/fauxqs"].Version
	if v == "" {
		return "", fmt.Errorf("%s/package-lock.json does not pin fauxqs", dir)
	}
	return v, nil
}

// installedFauxqsVersion is "" when fauxqs is not (completely) installed.
// npm writes node_modules/.package-lock.json last, so its presence says the
// previous install finished.
func installedFauxqsVersion(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "fauxqs", "package.json"))
	if err != nil {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &pkg) != nil {
		return ""
	}
	return pkg.Version
}
