package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("run", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded default: sample logs in examples/logs, alerts to stdout)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: trailguard run [--config FILE]\n\nRuns the daemon until SIGINT or SIGTERM; SIGHUP reloads the policies.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return exitUsage, err
		}
	}
	log := newLogger(cfg.Log, stderr)
	d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, Stdout: stdout})
	if err != nil {
		return exitUsage, err
	}
	if err := d.Run(ctx); err != nil {
		return exitBad, err
	}
	return exitOK, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == config.FormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
