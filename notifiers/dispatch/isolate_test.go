//go:build unix

package dispatch

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/stdout"
)

// fullPipe returns a pipe whose buffer is already full: the next write to w
// blocks until someone reads r, as stdout does when piped to a process that
// stopped reading.
func fullPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	fd := int(w.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = 'x'
	}
	junk[len(junk)-1] = '\n'
	for {
		if _, err := syscall.Write(fd, junk); err != nil {
			if errors.Is(err, syscall.EAGAIN) {
				break
			}
			t.Fatal(err)
		}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// A stdout nobody reads must not freeze the other notifiers: its first call
// fails after the notifier's own timeout, the later ones at once (ErrStuck,
// not retried), while Slack gets every alert at its own pace. Once the pipe
// is read again, the stuck call returns and a redelivery sends stdout what it
// missed, and Slack nothing twice.
func TestStuckNotifierFailsOnlyItsOwnDeliveries(t *testing.T) {
	r, w := fullPipe(t)
	srv := fakeslack.New(t)
	rec := newRecorder()
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{stdout.New("console", w), newSlack(t, srv)},
		Routes:    everything("console", "slack"), Observer: rec,
		Timeouts: map[string]time.Duration{"console": 300 * time.Millisecond},
	})
	ctx := context.Background()
	var alerts []*alert.Alert
	start := time.Now()
	for i := range 20 {
		a := mkAlert("iam.create_user", alert.High, "alice")
		alerts = append(alerts, a)
		t0 := time.Now()
		err := d.Dispatch(ctx, a)
		var de *Error
		if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Notifier != "console" || notifiers.IsPermanent(err) {
			t.Fatalf("alert %d: %v, want a retryable failure of console only", i, err)
		}
		if !errors.Is(de.Failures[0].Err, ErrStuck) {
			t.Errorf("alert %d: console failed with %v, want ErrStuck", i, de.Failures[0].Err)
		}
		if took := time.Since(t0); i > 0 && took > 250*time.Millisecond {
			t.Errorf("alert %d took %s with console known stuck", i, took)
		}
		if i == 0 && !strings.Contains(err.Error(), "timeout 300ms") {
			t.Errorf("first failure does not name the timeout: %v", err)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("20 alerts took %s", took)
	}
	if n := len(srv.Posts()); n != 20 {
		t.Fatalf("Slack got %d of 20 alerts while stdout was stuck", n)
	}
	if n := rec.retried("console"); n != 0 {
		t.Errorf("a stuck notifier was retried %d times within a dispatch", n)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if err := d.Close(cctx); err == nil || !strings.Contains(err.Error(), "1 notifier calls still stuck") {
		t.Errorf("Close while stuck: %v", err)
	}
	cancel()

	// The reader comes back: the stuck write ends, and the redelivery sends
	// console every alert (the first one's abandoned write may have landed
	// too: at least once).
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), "xxxx") {
				lines <- sc.Text()
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for i, a := range alerts {
		for {
			err := d.Dispatch(ctx, a)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redelivery of alert %d: %v", i, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := d.Close(ctx); err != nil {
		t.Fatalf("Close after recovery: %v", err)
	}
	w.Close()
	seen := map[string]int{}
	for l := range lines {
		for _, a := range alerts {
			if strings.Contains(l, a.EventID) {
				seen[a.EventID]++
			}
		}
	}
	for i, a := range alerts {
		if n := seen[a.EventID]; n == 0 || (i > 0 && n > 1) {
			t.Errorf("alert %d on stdout %d times", i, n)
		}
	}
	if n := len(srv.Posts()); n != 20 {
		t.Errorf("Slack got %d posts after the redeliveries, want 20", n)
	}
}

// A notifier that is down (connections refused) costs the first alert its
// full retries, and each later alert one attempt, until it delivers again:
// the other notifiers get a log's alerts without waiting MaxElapsedTime per
// alert. Once it is back, its first success restores the retries.
func TestNotifierDownGetsOneAttemptPerAlertUntilItDelivers(t *testing.T) {
	addr := fakesmtp.FreeAddr(t) // nothing listens yet
	out, buf := newStdout("console")
	rec := newRecorder()
	retry := fastRetry
	retry.InitialInterval, retry.MaxInterval, retry.MaxElapsedTime = 50*time.Millisecond, 50*time.Millisecond, 400*time.Millisecond
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{out, newEmail(t, addr)},
		Routes:    everything("console", "email"), Retry: retry, Observer: rec,
	})
	ctx := context.Background()
	var alerts []*alert.Alert
	for i := range 10 {
		a := mkAlert("iam.create_user", alert.High, "alice")
		alerts = append(alerts, a)
		t0 := time.Now()
		err := d.Dispatch(ctx, a)
		var de *Error
		if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Notifier != "email" {
			t.Fatalf("alert %d: %v, want a failure of email only", i, err)
		}
		took := time.Since(t0)
		switch {
		case i == 0 && took < 300*time.Millisecond:
			t.Errorf("first alert gave up after %s, before its retries", took)
		case i > 0 && took > 200*time.Millisecond:
			t.Errorf("alert %d took %s with email known down", i, took)
		case i > 0 && !strings.Contains(err.Error(), "not retried"):
			t.Errorf("alert %d: %v does not say it was not retried", i, err)
		}
	}
	if n := len(buf.lines(t)); n != 10 {
		t.Fatalf("stdout got %d of 10 alerts", n)
	}
	retried := rec.retried("email")

	// SMTP comes back: the redeliveries send email everything, stdout nothing again.
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.None, Addr: addr})
	for i, a := range alerts {
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatalf("redelivery %d: %v", i, err)
		}
	}
	if n := len(srv.Messages()); n != 10 {
		t.Errorf("email got %d of 10 alerts", n)
	}
	if n := len(buf.lines(t)); n != 10 {
		t.Errorf("stdout has %d lines after the redeliveries, want 10", n)
	}
	if rec.retried("email") != retried {
		t.Errorf("email retried during a healthy redelivery")
	}
	if d.iso.failing("email") {
		t.Errorf("email still marked failing after delivering")
	}
}
