package state_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// What one delivered marker costs in a real redis-server, with keys shaped as
// the dispatcher makes them (32 hex digits) and the default 14-day lifetime:
// MEMORY USAGE of one, and the growth of used_memory over many (which counts
// the key table and the expiry table too). The README quotes these numbers;
// the bound catches a change to the marker's shape that would make them wrong.
func TestDeliveredMarkerMemory(t *testing.T) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: testpeers.StartRedisServer(t)})
	defer c.Close()
	r := state.NewRedis(c, "")
	const n = 20000
	key := func(i int) string {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		return hex.EncodeToString(h[:16])
	}
	before := usedMemory(t, c)
	for i := range n {
		if err := r.MarkDelivered(ctx, key(i), 14*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	after := usedMemory(t, c)
	one, err := c.MemoryUsage(ctx, state.DefaultPrefix+"d:"+key(0)).Result()
	if err != nil {
		t.Fatal(err)
	}
	per := float64(after-before) / n
	t.Logf("delivered marker in redis-server: MEMORY USAGE %d bytes; used_memory grew %.1f bytes per marker over %d markers (%.1f MiB per million)",
		one, per, n, per*1e6/(1<<20))
	if one <= 0 || one > 256 || per <= 0 || per > 512 {
		t.Errorf("a marker costs %d bytes (MEMORY USAGE), %.1f bytes of used_memory: the README's figures are out of date", one, per)
	}
}

func usedMemory(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal(fmt.Errorf("no used_memory in INFO memory:\n%s", info))
	return 0
}
