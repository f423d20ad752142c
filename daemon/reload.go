package daemon

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce lets an editor's burst of writes (or a git checkout) settle
// into one reload.
const reloadDebounce = 300 * time.Millisecond

// watchPolicies reloads the policies on SIGHUP and when a file under one of
// rules.paths changes.
func (d *Daemon) watchPolicies(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var w *fsnotify.Watcher
	var events <-chan fsnotify.Event
	var errs <-chan error
	watched := slices.Concat(d.cfg.Rules.Paths, d.cfg.Rules.Sigma)
	if len(watched) > 0 {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			d.log.Error("cannot watch policy paths; reload with SIGHUP", "error", err)
		} else {
			defer w.Close()
			for _, p := range watched {
				d.watchTree(w, p)
			}
			events, errs = w.Events, w.Errors
		}
	}

	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			d.log.Info("SIGHUP: reloading policies")
			_ = d.Reload(ctx)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					d.watchTree(w, ev.Name) // fsnotify is not recursive
				}
			}
			if !relevant(ev.Name) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(reloadDebounce)
			} else {
				timer.Reset(reloadDebounce)
			}
			fire = timer.C
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			d.log.Warn("policy watcher", "error", err)
		case <-fire:
			fire = nil
			d.log.Info("policy files changed: reloading")
			_ = d.Reload(ctx)
		}
	}
}

// relevant tells files whose change can change the rule set.
func relevant(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") {
		return false
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".rego", ".json", ".yaml", ".yml":
		return true
	}
	return false
}

// watchTree watches a directory and its subdirectories (fsnotify is not
// recursive), or a file's directory.
func (d *Daemon) watchTree(w *fsnotify.Watcher, root string) {
	fi, err := os.Stat(root)
	if err != nil {
		d.log.Warn("cannot watch policy path", "path", root, "error", err)
		return
	}
	if !fi.IsDir() {
		if err := w.Add(filepath.Dir(root)); err != nil {
			d.log.Warn("cannot watch policy path", "path", root, "error", err)
		}
		return
	}
	_ = filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err == nil && de.IsDir() {
			if err := w.Add(p); err != nil {
				d.log.Warn("cannot watch policy directory", "path", p, "error", err)
			}
		}
		return nil
	})
}
