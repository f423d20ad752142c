package wait

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	start := time.Now()
	if !Sleep(context.Background(), 50*time.Millisecond) || time.Since(start) < 50*time.Millisecond {
		t.Errorf("Sleep(50ms) returned after %s", time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	if Sleep(ctx, time.Hour) || time.Since(start) > 10*time.Second {
		t.Errorf("Sleep(1h) with a context ending in 20ms: took %s", time.Since(start))
	}
}
