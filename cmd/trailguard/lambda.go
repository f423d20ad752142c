package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/source/lambda"
)

// processStart is as early as this package can take the time: the Go runtime
// and the other packages' initialisation come before it.
var processStart = time.Now()

// Where `trailguard lambda` finds its configuration without --config.
const (
	lambdaConfigEnv  = "TRAILGUARD_CONFIG"
	lambdaConfigName = "trailguard.yaml" // in $LAMBDA_TASK_ROOT, i.e. bundled in the zip
)

const lambdaHelp = "Runs as an AWS Lambda function triggered by an SQS event source mapping (with ReportBatchItemFailures):\n" +
	"each batch is handled as the daemon handles those messages, and only the messages that failed are named\n" +
	"in the partial batch response, to come back. The bare binary (the zip's bootstrap) runs this command when\n" +
	"AWS_LAMBDA_RUNTIME_API is set. The configuration is --config, else $" + lambdaConfigEnv + ", else " + lambdaConfigName + "\n" +
	"in $LAMBDA_TASK_ROOT; ${ENV} in it reads the function's environment. source.type lambda (or sqs, whose\n" +
	"queue settings are then unused: the event source mapping polls) reads the objects from source.s3."

func setupLambda(flags *flag.FlagSet, std stdio) action {
	cfgPath := flags.String("config", "", "configuration file (default: $"+lambdaConfigEnv+", else "+lambdaConfigName+" in $LAMBDA_TASK_ROOT)")
	return func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitUsage, usagef("unexpected arguments %q", args)
		}
		api := os.Getenv(lambda.RuntimeAPIEnv)
		d, log, err := startLambda(ctx, *cfgPath, std)
		if err != nil {
			// Tell Lambda why, so the reason shows with the failed invocation.
			if api != "" {
				if rerr := lambda.InitError(ctx, api, err); rerr != nil {
					err = errors.Join(err, rerr)
				}
			}
			return exitUsage, err
		}
		log.Info("lambda function ready", "init_ms", time.Since(processStart).Milliseconds())
		if err := d.Run(ctx); err != nil {
			return exitBad, err
		}
		return exitOK, nil
	}
}

// startLambda loads the configuration and builds the daemon with the lambda
// source: the policies are compiled here, once per execution environment, and
// every invocation reuses them.
func startLambda(ctx context.Context, flagPath string, std stdio) (*daemon.Daemon, *slog.Logger, error) {
	path := cmp.Or(flagPath, os.Getenv(lambdaConfigEnv))
	if path == "" {
		root := os.Getenv("LAMBDA_TASK_ROOT")
		if root == "" {
			return nil, nil, usagef("no configuration: give --config, set %s, or bundle %s in $LAMBDA_TASK_ROOT", lambdaConfigEnv, lambdaConfigName)
		}
		path = filepath.Join(root, lambdaConfigName)
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	switch cfg.Source.Type {
	case config.SourceLambda:
	case config.SourceSQS:
		// The daemon's file as it is: Lambda's event source mapping receives
		// from the queue, and the S3 settings still apply.
		cfg.Source.Type = config.SourceLambda
	default:
		return nil, nil, fmt.Errorf("%s: source.type %s: a Lambda function reads SQS batches naming S3 objects; set source.type lambda (or sqs) and source.s3", path, cfg.Source.Type)
	}
	log := newLogger(cfg.Log, std.err).With("config", path)
	// aws-lambda-go logs through the log package: its lines become JSON too.
	slog.SetDefault(log)
	// The daemon's default state, a SQLite file under /var/lib or the home
	// directory, does not exist in Lambda (only /tmp is writable, and it
	// lives as long as one execution environment): without a state block
	// naming a file, an environment keeps its state in memory, as the README
	// says; Redis shares it between environments.
	if cfg.State.Type == config.StateSQLite && cfg.State.SQLite.Path == "" {
		cfg.State.Type = config.StateMemory
		log.InfoContext(ctx, "state kept in this execution environment's memory: set state.type redis to share delivery claims and dedup windows between environments")
	}
	d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, Stdout: std.out, NoServer: true, Started: processStart})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, log, nil
}
