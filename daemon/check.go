package daemon

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/trailguard/trailguard/config"
)

// Check builds every client Run would build from cfg (the source's SQS and S3
// clients or its directory, the notifiers, the dispatcher, the state store's
// client) and drops them, making no network call: what `trailguard validate`
// accepts, `trailguard run` can start with. (A minimal SQS configuration once
// validated and then failed at run with "s3: no region".) The notifiers'
// start-up checks, which do reach the network, are not run.
func Check(ctx context.Context, cfg *config.Config) error {
	log := slog.New(slog.DiscardHandler)
	m := newMetrics()
	n, err := newNotifier(ctx, cfg, Options{Stdout: io.Discard}, log, m, newHealth())
	if err != nil {
		return err
	}
	n.users.Store(1)
	defer n.release()
	src, err := newSource(ctx, cfg, sourceDeps{log: log, m: m, shutdownGrace: time.Second})
	if err != nil {
		return err
	}
	if c, ok := src.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	return nil
}
