package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/internal/tally"
)

const daemonHelp = "Runs the daemon until SIGINT or SIGTERM; SIGHUP reloads the policies. When it stops, it writes\n" +
	"the alerts it handled by severity and by rule to stderr."

func setupDaemon(flags *flag.FlagSet, std stdio) action {
	cfgPath := flags.String("config", "", "configuration file (default: the embedded default: sample logs in examples/logs, alerts to stdout)")
	formatName := formatFlag(flags)
	return func(ctx context.Context, _ []string) (int, error) {
		format, err := outputFormat(*formatName, std.out, os.Getenv)
		if err != nil {
			return exitUsage, err
		}
		cfg := config.Default()
		if *cfgPath != "" {
			if cfg, err = config.Load(*cfgPath); err != nil {
				return exitUsage, err
			}
		}
		log := newLogger(cfg.Log, std.err)
		var seen tally.Tally
		d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, Stdout: std.out, StdoutFormat: format, Seen: seen.AddOnce})
		if err != nil {
			return exitUsage, err
		}
		err = d.Run(ctx)
		// What fired, by severity and rule, once the daemon stops (SIGINT,
		// SIGTERM, or a dir source without watch at the end of its files).
		reportTally(std.err, &seen)
		if err != nil {
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
