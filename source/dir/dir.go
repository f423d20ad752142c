// Package dir feeds log files from a local directory tree: the files
// already there and, when watching, the ones that appear later.
//
// Watching uses fsnotify (inotify on Linux) on every directory of the tree,
// with a periodic rescan as a safety net, and falls back to polling alone
// when fsnotify cannot be used. A file is handed to the handler once it has
// stopped changing for Deps.Settle, so a file still being written is not
// read half-way, and once per version: a file is handled again only if its
// size or modification time change.
package dir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trailguard/trailguard/config"
)

// Handler processes one file. path is config.Dir.Path joined with the
// file's path below it.
type Handler func(ctx context.Context, path string) error

// Defaults for Deps.
const (
	DefaultSettle         = time.Second
	DefaultPollInterval   = 2 * time.Second
	DefaultRescanInterval = 5 * time.Minute
	DefaultMaxAttempts    = 5
	DefaultRetryDelay     = 5 * time.Second
)

// Deps is what the daemon supplies beside the configuration (config.Dir):
// where to log, and the timings of watching, which the configuration does
// not expose. Zero fields get the defaults.
type Deps struct {
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
	dir   string
	watch bool
	deps  Deps
	log   *slog.Logger
	// noNotify forces the polling fallback (tests).
	noNotify bool
}

// New reads the tree cfg names, which must be an existing directory; cfg is
// taken as it is (the config package validated it).
func New(cfg config.Dir, deps Deps) (*Source, error) {
	fi, err := os.Stat(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("dir: %s is not a directory", cfg.Path)
	}
	if deps.Settle < 0 || deps.PollInterval < 0 || deps.MaxAttempts < 0 || deps.RetryDelay < 0 {
		return nil, errors.New("dir: negative settle, poll interval, max attempts or retry delay")
	}
	if deps.Match == nil {
		deps.Match = IsLogFile
	}
	if deps.Settle == 0 {
		deps.Settle = DefaultSettle
	}
	if deps.PollInterval == 0 {
		deps.PollInterval = DefaultPollInterval
	}
	if deps.RescanInterval == 0 {
		deps.RescanInterval = DefaultRescanInterval
	}
	if deps.MaxAttempts == 0 {
		deps.MaxAttempts = DefaultMaxAttempts
	}
	if deps.RetryDelay == 0 {
		deps.RetryDelay = DefaultRetryDelay
	}
	s := &Source{dir: cfg.Path, watch: cfg.Watch, deps: deps, log: deps.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("dir", cfg.Path)
	return s, nil
}

// Run hands files to handler, one at a time, in path order.
//
// Without config.Dir.Watch it handles the files there now and returns; a failing
// file does not stop the others, and Run returns their errors joined, each
// naming its path, or ctx's error if it was cancelled.
//
// With config.Dir.Watch it goes on handling new and changed files until ctx is
// cancelled, then returns nil. A failing file is logged and tried again
// later, up to MaxAttempts times.
func (s *Source) Run(ctx context.Context, handler Handler) error {
	if handler == nil {
		return errors.New("dir: nil handler")
	}
	if !s.watch {
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
	return filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == s.dir {
				return fmt.Errorf("walk %s: %w", path, err)
			}
			s.log.Warn("cannot read directory entry", "path", path, "error", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if path != s.dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return fn(path, true)
		}
		if !s.deps.Match(d.Name()) {
			return nil
		}
		return fn(path, false)
	})
}

// wanted reports whether a path seen in an event is a file to handle: it
// matches and no part of it below Dir is a dot name.
func (s *Source) wanted(path string) bool {
	rel, err := filepath.Rel(s.dir, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return s.deps.Match(filepath.Base(path))
}
