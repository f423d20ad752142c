package sqs

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/config"
)

// New takes the configuration as it is: it checks nothing the config
// package validates, and only needs a region to sign with.
func TestNewTakesConfigAsItIs(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	q := config.Default().Source.SQS
	q.QueueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/trail"
	q.VisibilityTimeout = 2500 * time.Millisecond
	c, err := New(context.Background(), q, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.VisibilityTimeout != 2*time.Second {
		t.Errorf("visibility timeout %s, want whole seconds (2s)", c.cfg.VisibilityTimeout)
	}
	if c.cfg.Workers != q.Workers || c.cfg.MaxMessages != q.MaxMessages || c.cfg.WaitTime != q.WaitTime {
		t.Errorf("configuration changed: %+v, given %+v", c.cfg, q)
	}

	// Without any region: the queue URL's host names none, nor an endpoint.
	q.QueueURL = "https://queue.example.com/123456789012/trail"
	if _, err := New(context.Background(), q, Deps{}); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("New without a region: %v", err)
	}
	// A custom endpoint signs as us-east-1.
	q.Endpoint = "http://127.0.0.1:1"
	if _, err := New(context.Background(), q, Deps{}); err != nil {
		t.Errorf("New with an endpoint and no region: %v", err)
	}
}

func TestDepsDefaults(t *testing.T) {
	var d Deps
	d.setDefaults()
	if d.ShutdownGrace != DefaultShutdownGrace || d.RetryDelay == nil || d.Logger == nil || d.Observer == nil ||
		d.ErrorBackoffMin != DefaultErrorBackoffMin || d.ErrorBackoffMax != DefaultErrorBackoffMax {
		t.Errorf("defaults: %+v", d)
	}
	// A maximum below the minimum is raised to it.
	d = Deps{ErrorBackoffMin: time.Minute, ErrorBackoffMax: time.Second, Logger: slog.Default()}
	d.setDefaults()
	if d.ErrorBackoffMax != time.Minute {
		t.Errorf("ErrorBackoffMax %s, want the minimum 1m", d.ErrorBackoffMax)
	}
}

func TestDefaultRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 5 * time.Second, 1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 7: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := DefaultRetryDelay(n); got != want {
			t.Errorf("DefaultRetryDelay(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestRegionFromQueueURL(t *testing.T) {
	for u, want := range map[string]string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/q":   "eu-west-1",
		"https://us-east-2.queue.amazonaws.com/123456789012/q": "us-east-2",
		"https://sqs.cn-north-1.amazonaws.com.cn/1/q":          "cn-north-1",
		"http://sqs.us-east-1.localhost:4566/000000000000/q":   "",
	} {
		if got := regionFromQueueURL(u); got != want {
			t.Errorf("regionFromQueueURL(%q) = %q, want %q", u, got, want)
		}
	}
}
