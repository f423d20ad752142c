package sqssource

import (
	"context"
	"testing"
	"time"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	good := Options{QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/trail"}
	for name, mod := range map[string]func(*Options){
		"no queue":         func(o *Options) { o.QueueURL = "" },
		"relative queue":   func(o *Options) { o.QueueURL = "trail" },
		"wait too long":    func(o *Options) { o.WaitTime = 21 * time.Second },
		"wait too short":   func(o *Options) { o.WaitTime = 500 * time.Millisecond },
		"too many":         func(o *Options) { o.MaxMessages = 11 },
		"negative workers": func(o *Options) { o.Workers = -1 },
		"visibility 1s":    func(o *Options) { o.VisibilityTimeout = time.Second },
		"negative grace":   func(o *Options) { o.ShutdownGrace = -time.Second },
	} {
		o := good
		mod(&o)
		if _, err := New(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := New(context.Background(), good); err != nil {
		t.Errorf("good options: %v", err)
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
