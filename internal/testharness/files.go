package testharness

import (
	"os"
	"path/filepath"
	"testing"
)

// Publish replaces path atomically (write aside, rename), as a deploy tool,
// a sync tool or a ConfigMap update would: a reader never sees half a file.
// The file aside is hidden, which the daemon's watchers ignore.
func Publish(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
