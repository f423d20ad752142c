// Package dirsource feeds log files from a local directory tree: the files
// already there and, when watching, the ones that appear later.
//
// Watching uses fsnotify (inotify on Linux) on every directory of the tree,
// with a periodic rescan as a safety net, and falls back to polling alone
// when fsnotify cannot be used. A file is handed to the handler once it has
// stopped changing for Options.Settle, so a file still being written is not
// read half-way, and once per version: a file is handled again only if its
// size or modification time change.
package dirsource

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Handler processes one file. path is Options.Dir joined with the file's
// path below it.
type Handler func(ctx context.Context, path string) error

// Defaults for Options.
const (
	DefaultSettle         = time.Second
	DefaultPollInterval   = 2 * time.Second
	DefaultRescanInterval = 5 * time.Minute
	DefaultMaxAttempts    = 5
	DefaultRetryDelay     = 5 * time.Second
)

// Options configure a Source.
type Options struct {
	// Dir is the root of the tree.
	Dir string
	// Watch keeps Run going after the existing files, handling new and
	// changed files as they appear, until its context is cancelled.
	Watch bool
	// Match selects files by base name; nil means IsLogFile. Files and
	// directories whose names start with "." are always skipped (editors'
	// and rsync's temporary files).
	Match func(name string) bool

	// The rest only matter when watching.

	// Settle is how long a file must stay unchanged (size and
	// modification time) before it is handled. Zero means DefaultSettle.
	Settle time.Duration
	// PollInterval is how often the tree is rescanned when fsnotify is
	// unavailable. Zero means DefaultPollInterval.
	PollInterval time.Duration
	// RescanInterval is how often the tree is rescanned even though
	// fsnotify works, to catch events lost to a queue overflow. Zero means
	// DefaultRescanInterval; negative disables it.
	RescanInterval time.Duration
	// MaxAttempts bounds how often a failing file version is tried before
	// it is given up on (until it changes). Zero means DefaultMaxAttempts.
	MaxAttempts int
	// RetryDelay is the wait before the second attempt; it doubles for
	// each further one. Zero means DefaultRetryDelay.
	RetryDelay time.Duration

	// Logger receives the source's logs; nil means slog.Default().
	Logger *slog.Logger
}

// IsLogFile reports whether name looks like a log file: *.json, *.json.gz,
// *.jsonl, *.ndjson or *.gz, in any letter case, and not a dotfile.
func IsLogFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	lower := strings.ToLower(name)
	for _, ext := range []string{".json", ".jsonl", ".ndjson", ".gz"} {
		if strings.HasSuffix(lower, ext) && len(lower) > len(ext) {
			return true
		}
	}
	return false
}

// Source reads one directory tree. Create it with New.
type Source struct {
	opts Options
	log  *slog.Logger
	// noNotify forces the polling fallback (tests).
	noNotify bool
}

// New checks opts; Dir must be an existing directory.
func New(opts Options) (*Source, error) {
	fi, err := os.Stat(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("dirsource: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("dirsource: %s is not a directory", opts.Dir)
	}
	if opts.Settle < 0 || opts.PollInterval < 0 || opts.MaxAttempts < 0 || opts.RetryDelay < 0 {
		return nil, errors.New("dirsource: negative settle, poll interval, max attempts or retry delay")
	}
	if opts.Match == nil {
		opts.Match = IsLogFile
	}
	if opts.Settle == 0 {
		opts.Settle = DefaultSettle
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.RescanInterval == 0 {
		opts.RescanInterval = DefaultRescanInterval
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	s := &Source{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("dir", opts.Dir)
	return s, nil
}

// Run hands files to handler, one at a time, in path order.
//
// Without Watch it handles the files there now and returns; a failing
// file does not stop the others, and Run returns their errors joined, each
// naming its path, or ctx's error if it was cancelled.
//
// With Watch it goes on handling new and changed files until ctx is
// cancelled, then returns nil. A failing file is logged and tried again
// later, up to MaxAttempts times.
func (s *Source) Run(ctx context.Context, handler Handler) error {
	if handler == nil {
		return errors.New("dirsource: nil handler")
	}
	if !s.opts.Watch {
		return s.once(ctx, handler)
	}
	w := &watch{Source: s, handler: handler, pending: map[string]*pending{}, done: map[string]version{}}
	return w.run(ctx)
}

func (s *Source) once(ctx context.Context, handler Handler) error {
	var errs []error
	err := s.walk(func(path string, isDir bool) error {
		if isDir {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := handler(ctx, path); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err = fmt.Errorf("%s: %w", path, err)
			s.log.Error("cannot process file", "path", path, "error", err)
			errs = append(errs, err)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// walk visits the tree in path order, skipping dot names, calling fn for
// each directory (before its contents) and each matching file. An
// unreadable directory is logged and skipped.
func (s *Source) walk(fn func(path string, isDir bool) error) error {
	return filepath.WalkDir(s.opts.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == s.opts.Dir {
				return fmt.Errorf("walk %s: %w", path, err)
			}
			s.log.Warn("cannot read directory entry", "path", path, "error", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if path != s.opts.Dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return fn(path, true)
		}
		if !s.opts.Match(d.Name()) {
			return nil
		}
		return fn(path, false)
	})
}

// wanted reports whether a path seen in an event is a file to handle: it
// matches and no part of it below Dir is a dot name.
func (s *Source) wanted(path string) bool {
	rel, err := filepath.Rel(s.opts.Dir, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return s.opts.Match(filepath.Base(path))
}

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
			w.log.Warn("fsnotify unavailable; polling the directory instead", "error", err, "interval", w.opts.PollInterval)
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
	if w.polling || w.opts.RescanInterval > 0 {
		interval := w.opts.RescanInterval
		if w.polling {
			interval = w.opts.PollInterval
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
			w.log.Warn("cannot watch directory; polling as well", "path", path, "error", err, "interval", w.opts.PollInterval)
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
	rel, err := filepath.Rel(w.opts.Dir, path)
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
	sub := &Source{opts: w.opts, log: w.log}
	sub.opts.Dir = dir
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
	settleAt := p.since.Add(w.opts.Settle)
	if byMtime := v.mtime.Add(w.opts.Settle); byMtime.Before(settleAt) {
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
	if p.attempts >= w.opts.MaxAttempts {
		// Give up on this version; a change to the file makes it new.
		w.done[path] = v
		delete(w.pending, path)
		w.log.Error("cannot process file; giving up until it changes", "path", path, "attempts", p.attempts, "error", err)
		return
	}
	delay := w.opts.RetryDelay << (p.attempts - 1)
	p.due = time.Now().Add(delay)
	w.log.Warn("cannot process file; will retry", "path", path, "attempt", p.attempts, "retry_in", delay, "error", err)
}
