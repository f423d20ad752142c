package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The daemon's state file: a configured path as it is (its directory made),
// else the default when writable, else the user's state directory; a
// directory that cannot be written is an error naming it. (A regular file
// standing where a directory must be is unwritable even for root, as CI runs.)
func TestSQLitePath(t *testing.T) {
	tmp := t.TempDir()
	blocker := filepath.Join(tmp, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(tmp, "var", "lib", "trailguard", "state.db")
	xdg := filepath.Join(tmp, "xdg")
	t.Setenv("XDG_STATE_HOME", xdg)

	if p, note, err := sqlitePath("", def); err != nil || p != def || note != "" {
		t.Fatalf("writable default: %q %q %v", p, note, err)
	}
	unwritable := filepath.Join(blocker, "trailguard", "state.db")
	p, note, err := sqlitePath("", unwritable)
	if want := filepath.Join(xdg, "trailguard", "state.db"); err != nil || p != want || !strings.Contains(note, want) {
		t.Fatalf("unwritable default: %q %q %v", p, note, err)
	}
	if _, err := os.Stat(filepath.Dir(p)); err != nil {
		t.Fatalf("user state directory not made: %v", err)
	}
	if p, _, err := sqlitePath(filepath.Join(tmp, "a", "b.db"), unwritable); err != nil || p != filepath.Join(tmp, "a", "b.db") {
		t.Fatalf("configured: %q %v", p, err)
	}
	_, _, err = sqlitePath(filepath.Join(blocker, "s.db"), def)
	if err == nil || !strings.Contains(err.Error(), "state.sqlite.path "+filepath.Join(blocker, "s.db")) {
		t.Fatalf("unwritable configured path: %v", err)
	}
	t.Setenv("XDG_STATE_HOME", filepath.Join(blocker, "xdg"))
	if _, _, err := sqlitePath("", unwritable); err == nil || !strings.Contains(err.Error(), "set state.sqlite.path") {
		t.Fatalf("nothing writable: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(def))
	if len(entries) != 0 {
		t.Fatalf("the probe left %v", entries)
	}
}
