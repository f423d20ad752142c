package dispatch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	"github.com/trailguard/trailguard/notifiers"
)

func TestRedeliveredAlertIsSentOnce(t *testing.T) {
	srv := fakeslack.New(t)
	rec := newRecorder()
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"), Observer: rec})
	a := mkAlert("iam.create_user", alert.High, "alice")
	for range 3 {
		if err := d.Dispatch(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Posts()); n != 1 {
		t.Fatalf("%d posts for one alert", n)
	}
	if rec.get("slack/sent") != 1 || rec.get("slack/already_delivered") != 2 {
		t.Errorf("outcomes: %v", rec.outcomes)
	}
	// Another event for the same rule is another alert.
	if err := d.Dispatch(context.Background(), mkAlert("iam.create_user", alert.High, "alice")); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Posts()); n != 2 {
		t.Fatalf("%d posts, want 2", n)
	}
}

func TestPartialFailureRedispatchSendsOnlyTheFailedNotifier(t *testing.T) {
	slackSrv := fakeslack.New(t)
	addr := fakesmtp.FreeAddr(t) // nothing listens yet: connection refused
	log, logs := testLogger()
	rec := newRecorder()
	retry := fastRetry
	retry.MaxElapsedTime = 100 * time.Millisecond
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{newSlack(t, slackSrv), newEmail(t, addr)},
		Routes:    everything("slack", "email"), Retry: retry, Logger: log, Observer: rec,
	})
	a := mkAlert("iam.create_user", alert.Critical, "alice")

	err := d.Dispatch(context.Background(), a)
	if err == nil || notifiers.IsPermanent(err) {
		t.Fatalf("first dispatch: %v, want a retryable error", err)
	}
	var de *Error
	if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Notifier != "email" {
		t.Fatalf("failures: %v", err)
	}
	if len(slackSrv.Posts()) != 1 {
		t.Fatal("slack not sent")
	}
	if rec.retried("email") == 0 {
		t.Error("email was not retried")
	}

	// The SMTP server comes up; SQS hands the message back.
	smtpSrv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.None, Addr: addr})
	if err := d.Dispatch(context.Background(), a); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := len(slackSrv.Posts()); n != 1 {
		t.Errorf("slack posted %d times", n)
	}
	if n := len(smtpSrv.Messages()); n != 1 {
		t.Errorf("email sent %d times", n)
	}
	if rec.get("slack/already_delivered") != 1 || rec.get("email/sent") != 1 || rec.get("email/failed") != 1 {
		t.Errorf("outcomes: %v", rec.outcomes)
	}
	if strings.Contains(logs.String(), slackToken) {
		t.Error("token in logs")
	}
}

func TestRetriesUntilSlackRecovers(t *testing.T) {
	srv := fakeslack.New(t)
	srv.Script(fakeslack.Reply{Status: 500, Body: "oops"}, fakeslack.Reply{Status: 503}, fakeslack.Error("internal_error"))
	rec := newRecorder()
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"), Observer: rec})
	a := mkAlert("r", alert.High, "alice")
	if err := d.Dispatch(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if srv.Attempts() != 4 || len(srv.Posts()) != 1 || rec.retried("slack") != 3 || rec.get("slack/sent") != 1 {
		t.Fatalf("attempts %d, posts %d, retries %d, outcomes %v", srv.Attempts(), len(srv.Posts()), rec.retried("slack"), rec.outcomes)
	}
	// Recorded as delivered: a redelivery does not post again.
	if err := d.Dispatch(context.Background(), a); err != nil || srv.Attempts() != 4 {
		t.Fatalf("redelivery: %v, attempts %d", err, srv.Attempts())
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv := fakeslack.New(t)
	srv.Script(fakeslack.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"}})
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack")})
	start := time.Now()
	if err := d.Dispatch(context.Background(), mkAlert("r", alert.High, "alice")); err != nil {
		t.Fatal(err)
	}
	// The backoff alone would have waited ~5ms; Slack asked for a second.
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %s, before Slack's Retry-After", waited)
	}
	if srv.Attempts() != 2 || len(srv.Posts()) != 1 {
		t.Errorf("attempts %d posts %d", srv.Attempts(), len(srv.Posts()))
	}
}

func TestRetryAfterBeyondBudgetGivesUpRetryably(t *testing.T) {
	srv := fakeslack.New(t)
	srv.Script(fakeslack.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "60"}})
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack")})
	a := mkAlert("r", alert.High, "alice")
	err := d.Dispatch(context.Background(), a)
	if err == nil || notifiers.IsPermanent(err) || srv.Attempts() != 1 {
		t.Fatalf("err %v, attempts %d: want one attempt and a retryable error", err, srv.Attempts())
	}
	// The claim was released: the redelivery sends.
	if err := d.Dispatch(context.Background(), a); err != nil || len(srv.Posts()) != 1 {
		t.Fatalf("redelivery: %v, posts %d", err, len(srv.Posts()))
	}
}

func TestPermanentErrorStopsAtOnce(t *testing.T) {
	srv := fakeslack.New(t)
	srv.Script(fakeslack.Error("invalid_auth"))
	rec := newRecorder()
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"), Observer: rec})
	a := mkAlert("r", alert.High, "alice")
	err := d.Dispatch(context.Background(), a)
	if !notifiers.IsPermanent(err) || srv.Attempts() != 1 || rec.retried("slack") != 0 {
		t.Fatalf("err %v (permanent %v), attempts %d", err, notifiers.IsPermanent(err), srv.Attempts())
	}
	if !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("error lacks the cause: %v", err)
	}
	// Claim released: once the token is fixed, a redelivery goes through.
	if err := d.Dispatch(context.Background(), a); err != nil || len(srv.Posts()) != 1 {
		t.Fatalf("after fix: %v, posts %d", err, len(srv.Posts()))
	}
}

func TestMixedFailuresAreNotPermanent(t *testing.T) {
	bad := fakeslack.New(t)
	bad.Script(fakeslack.Error("channel_not_found"))
	retry := fastRetry
	retry.MaxElapsedTime = 50 * time.Millisecond
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{newSlack(t, bad), newEmail(t, fakesmtp.FreeAddr(t))},
		Routes:    everything("slack", "email"), Retry: retry,
	})
	err := d.Dispatch(context.Background(), mkAlert("r", alert.High, "alice"))
	var de *Error
	if err == nil || notifiers.IsPermanent(err) || !errors.As(err, &de) || len(de.Failures) != 2 {
		t.Fatalf("err %v: one permanent and one retryable failure must be retryable", err)
	}
}

func TestCancellationStopsRetries(t *testing.T) {
	srv := fakeslack.New(t)
	for range 1000 {
		srv.Script(fakeslack.Reply{Status: 500})
	}
	retry := fastRetry
	retry.MaxElapsedTime = time.Minute
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"), Retry: retry})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	a := mkAlert("r", alert.High, "alice")
	err := d.Dispatch(ctx, a)
	if err == nil || notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v", err)
	}
	// The claim was released despite the cancelled context.
	srv2 := fakeslack.New(t)
	d2 := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv2)}, Routes: everything("slack"), State: d.state})
	if err := d2.Dispatch(context.Background(), a); err != nil || len(srv2.Posts()) != 1 {
		t.Fatalf("after cancel: %v, posts %d", err, len(srv2.Posts()))
	}
}

func TestConcurrentDispatchOfOneAlertSendsOnce(t *testing.T) {
	srv := fakeslack.New(t)
	hold := make(chan struct{})
	srv.Script(fakeslack.Reply{Status: 200, Body: fakeslack.OK.Body, Hold: hold})
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack")})
	a := mkAlert("r", alert.High, "alice")
	first := make(chan error, 1)
	go func() { first <- d.Dispatch(context.Background(), a) }()
	for srv.Attempts() == 0 {
		time.Sleep(time.Millisecond)
	}
	err := d.Dispatch(context.Background(), a)
	var de *Error
	if !errors.As(err, &de) || !errors.Is(de.Failures[0].Err, ErrInFlight) || notifiers.IsPermanent(err) {
		t.Fatalf("second dispatch while the first sends: %v", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := d.Dispatch(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if len(srv.Posts()) != 1 || srv.Attempts() != 1 {
		t.Fatalf("posts %d attempts %d", len(srv.Posts()), srv.Attempts())
	}
}

func TestReady(t *testing.T) {
	srv := fakeslack.New(t)
	out, _ := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv), out}, Routes: everything("slack", "out")})
	if err := d.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetAuthError("token_revoked")
	err := d.Ready(context.Background())
	if !notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "slack: ") || !strings.Contains(err.Error(), "token_revoked") {
		t.Fatalf("Ready = %v", err)
	}
}
