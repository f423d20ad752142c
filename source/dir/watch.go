package dir

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// version tells apart versions of a file.
type version struct {
	size  int64
	mtime time.Time
}

// pending is a file to look at again at due.
type pending struct {
	due      time.Time
	last     version   // as last seen
	since    time.Time // when last was first seen
	attempts int       // failed attempts at last
}

type watch struct {
	*Source
	handler Handler
	watcher *fsnotify.Watcher // nil when polling
	polling bool
	pending map[string]*pending
	done    map[string]version // handled (or given up) versions
}

func (w *watch) run(ctx context.Context) error {
	if !w.noNotify {
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			w.log.Warn("fsnotify unavailable; polling the directory instead", "error", err, "interval", w.deps.PollInterval)
		} else {
			w.watcher = fw
			defer fw.Close()
		}
	}
	w.polling = w.watcher == nil
	if err := w.scan(time.Now()); err != nil {
		return err
	}

	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.watcher != nil {
		events, errs = w.watcher.Events, w.watcher.Errors
	}
	var rescan <-chan time.Time
	if w.polling || w.deps.RescanInterval > 0 {
		interval := w.deps.RescanInterval
		if w.polling {
			interval = w.deps.PollInterval
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		rescan = t.C
	}
	timer := time.NewTimer(0)
	defer timer.Stop()

	for {
		w.handleDue(ctx, time.Now())
		if ctx.Err() != nil {
			return nil
		}
		if next, ok := w.nextDue(); ok {
			timer.Reset(time.Until(next))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.event(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflow means lost events: look at everything again.
			w.log.Warn("fsnotify error; rescanning", "error", err)
			if err := w.scan(time.Now()); err != nil {
				w.log.Error("rescan failed", "error", err)
			}
		case <-rescan:
			if err := w.scan(time.Now()); err != nil {
				w.log.Error("rescan failed", "error", err)
			}
		case <-timer.C:
		}
	}
}

// scan watches every directory of the tree and queues every file in it
// that has no handled version yet.
func (w *watch) scan(now time.Time) error {
	return w.walk(func(path string, isDir bool) error {
		if isDir {
			w.watchDir(path)
			return nil
		}
		w.queue(path, now)
		return nil
	})
}

func (w *watch) watchDir(path string) {
	if w.watcher == nil {
		return
	}
	if err := w.watcher.Add(path); err != nil {
		// Most likely the inotify watch limit: keep what works and poll
		// for the rest.
		if !w.polling {
			w.log.Warn("cannot watch directory; polling as well", "path", path, "error", err, "interval", w.deps.PollInterval)
			w.polling = true
		}
	}
}

func (w *watch) event(ev fsnotify.Event) {
	now := time.Now()
	switch {
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		// Forget the file (or the tree below a directory): if it comes
		// back, it is new.
		prefix := ev.Name + string(filepath.Separator)
		for p := range w.pending {
			if p == ev.Name || strings.HasPrefix(p, prefix) {
				delete(w.pending, p)
			}
		}
		for p := range w.done {
			if p == ev.Name || strings.HasPrefix(p, prefix) {
				delete(w.done, p)
			}
		}
	case ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write) || ev.Has(fsnotify.Chmod):
		fi, err := os.Stat(ev.Name)
		if err != nil {
			return
		}
		if fi.IsDir() {
			if ev.Has(fsnotify.Create) && w.wantedDir(ev.Name) {
				// Files may have landed in it before the watch was added:
				// scan it too.
				w.walkFrom(ev.Name, now)
			}
			return
		}
		if w.wanted(ev.Name) {
			w.queue(ev.Name, now)
		}
	}
}

func (w *watch) wantedDir(path string) bool {
	rel, err := filepath.Rel(w.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

// walkFrom watches and scans the subtree at dir.
func (w *watch) walkFrom(dir string, now time.Time) {
	sub := &Source{dir: dir, deps: w.deps, log: w.log}
	if err := sub.walk(func(path string, isDir bool) error {
		if isDir {
			w.watchDir(path)
		} else {
			w.queue(path, now)
		}
		return nil
	}); err != nil {
		w.log.Warn("cannot scan new directory", "path", dir, "error", err)
	}
}

// queue makes sure path will be looked at; handleDue decides whether it
// is new, changed or still being written.
func (w *watch) queue(path string, now time.Time) {
	if _, ok := w.pending[path]; !ok {
		w.pending[path] = &pending{due: now}
	}
}

func (w *watch) nextDue() (time.Time, bool) {
	var next time.Time
	for _, p := range w.pending {
		if next.IsZero() || p.due.Before(next) {
			next = p.due
		}
	}
	return next, !next.IsZero()
}

// handleDue looks at every file whose time has come, in path order.
func (w *watch) handleDue(ctx context.Context, now time.Time) {
	var due []string
	for path, p := range w.pending {
		if !p.due.After(now) {
			due = append(due, path)
		}
	}
	slices.SortFunc(due, comparePaths)
	for _, path := range due {
		if ctx.Err() != nil {
			return
		}
		w.look(ctx, path, time.Now())
	}
}

// comparePaths orders paths as a depth-first walk does: "a/x" before "a-b".
func comparePaths(a, b string) int {
	return cmp.Compare(strings.ReplaceAll(a, string(filepath.Separator), "\x00"), strings.ReplaceAll(b, string(filepath.Separator), "\x00"))
}

func (w *watch) look(ctx context.Context, path string, now time.Time) {
	p := w.pending[path]
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		delete(w.pending, path)
		return
	}
	v := version{size: fi.Size(), mtime: fi.ModTime()}
	if w.done[path] == v {
		delete(w.pending, path)
		return
	}
	if p.since.IsZero() || v != p.last {
		p.last, p.since, p.attempts = v, now, 0
	}
	// Stable: unchanged since we first saw it this way for Settle, or
	// last modified longer ago than that (files there before we looked).
	settleAt := p.since.Add(w.deps.Settle)
	if byMtime := v.mtime.Add(w.deps.Settle); byMtime.Before(settleAt) {
		settleAt = byMtime
	}
	if now.Before(settleAt) {
		p.due = settleAt
		return
	}

	start := time.Now()
	err = w.handler(ctx, path)
	if err == nil {
		w.done[path] = v
		delete(w.pending, path)
		w.log.Debug("processed file", "path", path, "size", v.size, "took", time.Since(start).Round(time.Millisecond))
		return
	}
	if ctx.Err() != nil {
		return // stopping: not the file's fault
	}
	p.attempts++
	if p.attempts >= w.deps.MaxAttempts {
		// Give up on this version; a change to the file makes it new.
		w.done[path] = v
		delete(w.pending, path)
		w.log.Error("cannot process file; giving up until it changes", "path", path, "attempts", p.attempts, "error", err)
		return
	}
	delay := w.deps.RetryDelay << (p.attempts - 1)
	p.due = time.Now().Add(delay)
	w.log.Warn("cannot process file; will retry", "path", path, "attempt", p.attempts, "retry_in", delay, "error", err)
}
