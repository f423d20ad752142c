package state

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// replyLoser is a TCP proxy in front of a real redis-server that, when armed,
// lets one script call (EVALSHA/EVAL) through to Redis, waits for Redis's
// answer, and drops the connection instead of passing the answer on: the
// claim is applied, its reply lost, as when Redis pauses past the client's
// timeout and then resumes.
type replyLoser struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	lost   atomic.Int32
	wg     sync.WaitGroup
}

func startReplyLoser(t *testing.T, target string) *replyLoser {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyLoser{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *replyLoser) addr() string { return p.ln.Addr().String() }

func (p *replyLoser) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

func (p *replyLoser) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	var dropping atomic.Bool
	p.wg.Go(func() { // Redis → client
		defer c.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 && dropping.Load() {
				p.lost.Add(1)
				return // the answer is lost with the connection
			}
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			lower := bytes.ToLower(buf[:n])
			if bytes.Contains(lower, []byte("eval")) && p.armed.CompareAndSwap(true, false) {
				dropping.Store(true)
			}
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: the client is gone
		}
	}
}

// A claim Redis applied but whose reply was lost is this process's own when
// it asks again (a go-redis retry inside the same call, or the next
// delivery attempt): it succeeds at once instead of waiting, deferred as "in
// flight", for the orphan claim to expire. Another replica still sees the
// claim as in flight, and so does another goroutine of the same process
// while the claim is held.
func TestRedisClaimIdempotentAfterLostReply(t *testing.T) {
	ctx := context.Background()
	server := testpeers.StartRedisServer(t)
	px := startReplyLoser(t, server)
	// No retries in the client: the lost reply reaches the caller as an error.
	noRetry := redis.NewClient(&redis.Options{Addr: px.addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = noRetry.Close() })
	r := NewRedis(noRetry, "t:")
	other := NewRedis(redisClient(t, server), "t:")
	if _, err := r.Claim(ctx, "warm", time.Minute); err != nil { // loads the script
		t.Fatal(err)
	}

	px.armed.Store(true)
	if c, err := r.Claim(ctx, "k", time.Minute); err == nil {
		t.Fatalf("claim through a lost reply: %+v, want an error", c)
	}
	if px.lost.Load() != 1 {
		t.Fatalf("%d replies lost, want 1", px.lost.Load())
	}
	// Redis did apply it: another replica is told it is in flight.
	if c, err := other.Claim(ctx, "k", time.Minute); err != nil || c.Status != InFlight {
		t.Fatalf("other replica: %+v %v, want in flight", c, err)
	}
	// Our retry recognises our own claim.
	c, err := r.Claim(ctx, "k", time.Minute)
	if err != nil || c.Status != Claimed {
		t.Fatalf("retry by the claimant: %+v %v, want claimed", c, err)
	}
	// Held now: a second goroutine of ours defers, as does the other replica.
	if c2, err := r.Claim(ctx, "k", time.Minute); err != nil || c2.Status != InFlight {
		t.Fatalf("second claim while held: %+v %v, want in flight", c2, err)
	}
	if c2, err := other.Claim(ctx, "k", time.Minute); err != nil || c2.Status != InFlight {
		t.Fatalf("other replica while held: %+v %v, want in flight", c2, err)
	}
	// The token is the current one: releasing with it frees the delivery for
	// anyone; marking it delivered ends it for everyone.
	if err := r.Release(ctx, "k", c.Token); err != nil {
		t.Fatal(err)
	}
	c3, err := other.Claim(ctx, "k", time.Minute)
	if err != nil || c3.Status != Claimed {
		t.Fatalf("other replica after release: %+v %v, want claimed", c3, err)
	}
	if err := other.MarkDelivered(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if c, err := r.Claim(ctx, "k", time.Minute); err != nil || c.Status != Delivered {
		t.Fatalf("after delivery: %+v %v", c, err)
	}

	// With go-redis's own retries (the default), the lost reply is retried
	// inside the one Claim call, and that retry finds our claim too.
	retrying := redis.NewClient(&redis.Options{Addr: px.addr()})
	t.Cleanup(func() { _ = retrying.Close() })
	r2 := NewRedis(retrying, "t:")
	if _, err := r2.Claim(ctx, "warm2", time.Minute); err != nil {
		t.Fatal(err)
	}
	px.armed.Store(true)
	c, err = r2.Claim(ctx, "j", time.Minute)
	if err != nil || c.Status != Claimed || px.lost.Load() != 2 {
		t.Fatalf("claim retried by go-redis: %+v %v (%d replies lost), want claimed", c, err, px.lost.Load())
	}
	if c, err := other.Claim(ctx, "j", time.Minute); err != nil || c.Status != InFlight {
		t.Fatalf("other replica: %+v %v, want in flight", c, err)
	}
}
