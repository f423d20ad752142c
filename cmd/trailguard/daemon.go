package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
)

const daemonHelp = "Runs the daemon until SIGINT or SIGTERM; SIGHUP reloads the policies."

func setupDaemon(flags *flag.FlagSet, std stdio) action {
	cfgPath := flags.String("config", "", "configuration file (default: the embedded default: sample logs in examples/logs, alerts to stdout)")
	return func(ctx context.Context, _ []string) (int, error) {
		cfg := config.Default()
		if *cfgPath != "" {
			var err error
			if cfg, err = config.Load(*cfgPath); err != nil {
				return exitUsage, err
			}
		}
		log := newLogger(cfg.Log, std.err)
		d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, Stdout: std.out})
		if err != nil {
			return exitUsage, err
		}
		if err := d.Run(ctx); err != nil {
			return exitBad, err
		}
		return exitOK, nil
	}
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == config.FormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
