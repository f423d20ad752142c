package state

import (
	"fmt"
	"os"
	"path/filepath"
)

// SQLitePath picks the daemon's state file. A configured path is used as
// it is: its directory must be writable (created if missing), else the error
// says so. With none, DefaultSQLitePath when its directory is writable (a
// service account, the container image), else the user's state directory
// ($XDG_STATE_HOME, or ~/.local/state, /trailguard/state.db), so the daemon
// runs without root; note then says which file, and why.
func SQLitePath(configured string) (path, note string, err error) {
	return sqlitePath(configured, DefaultSQLitePath)
}

func sqlitePath(configured, def string) (path, note string, err error) {
	if configured != "" {
		if err := writableDir(filepath.Dir(configured)); err != nil {
			return "", "", fmt.Errorf("state.sqlite.path %s: %w", configured, err)
		}
		return configured, "", nil
	}
	errDefault := writableDir(filepath.Dir(def))
	if errDefault == nil {
		return def, "", nil
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", fmt.Errorf("state: %s is not usable (%w) and there is no home directory for a user state file (%w); set state.sqlite.path", def, errDefault, err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	user := filepath.Join(dir, "trailguard", "state.db")
	if err := writableDir(filepath.Dir(user)); err != nil {
		return "", "", fmt.Errorf("state: neither %s (%w) nor %s (%w) is writable; set state.sqlite.path", def, errDefault, user, err)
	}
	return user, fmt.Sprintf("%s: state kept in %s instead", errDefault, user), nil
}

// writableDir creates dir if missing and checks that a file can be made in
// it: SQLite needs to create the file and its WAL beside it.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".trailguard-probe-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}
