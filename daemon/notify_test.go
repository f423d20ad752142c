package daemon

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/config"
)

// The Redis client is closed only after both its users are done: run (with the
// dispatcher's Run it starts) and the final flush, whichever ends last. The
// daemon flushes before it stops run, unless its context was cancelled first.
func TestRedisClosedAfterRunAndFlush(t *testing.T) {
	for _, flushFirst := range []bool{true, false} {
		mr := miniredis.RunT(t)
		cfg := config.Default()
		cfg.State = config.State{Type: config.StateRedis, Redis: config.Redis{Addr: mr.Addr()}}
		n, err := newNotifier(context.Background(), cfg, Options{Stdout: &testWriter{}}, slog.New(slog.DiscardHandler), newMetrics(), newHealth())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.run(ctx); close(done) }()
		open := func(want bool) {
			t.Helper()
			err := n.redis.Ping(context.Background()).Err()
			if closed := errors.Is(err, redis.ErrClosed); closed == want {
				t.Errorf("flushFirst=%v: client closed = %v (%v), want %v", flushFirst, closed, err, !want)
			}
		}
		if flushFirst {
			n.flush(context.Background())
			open(true) // run and the dispatcher's Run still use it
			cancel()
			<-done
		} else {
			cancel()
			<-done
			open(true) // flush has yet to run
			n.flush(context.Background())
		}
		open(false)
	}
}

type testWriter struct{}

func (testWriter) Write(p []byte) (int, error) { return len(p), nil }
