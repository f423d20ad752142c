// Package httpsend is what the HTTP notifiers (webhook, pagerduty, teams)
// share: one POST, its answer read within bounds, and the answer classified
// for the dispatcher the way those services document their status codes.
package httpsend

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailguard/trailguard/notifiers"
)

// maxAnswer bounds how much of an answer is read: the services answer with a
// few hundred bytes, and a misdirected URL must not fill the memory.
const maxAnswer = 64 << 10

// Client POSTs to one URL, which may be a credential (a Teams or webhook URL
// carries its token): it never appears in an error.
type Client struct {
	url  string
	http *http.Client
}

// New returns a client for target verifying TLS with tlsConfig (nil: the
// system's roots). Redirects are not followed: a POST re-sent elsewhere would
// carry the alert and its headers to a host nobody configured, so a 3xx is an
// error like any other unexpected answer.
func New(target string, tlsConfig *tls.Config) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig
	}
	return &Client{url: target, http: &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Answer is what the service said.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte // at most maxAnswer bytes
}

// Post sends body with header (Content-Type included) and returns the answer.
// A transport error (refused, reset, timeout) is returned retryable, without
// the URL.
func (c *Client) Post(ctx context.Context, body []byte, header http.Header) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, notifiers.Permanent(errors.New("building the request failed (URL not shown)"))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the URL
		}
		return nil, fmt.Errorf("POST <URL not shown>: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("reading the answer to POST: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer)) // so the connection can be reused
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Classify turns an answer into the dispatcher's terms: nil for 2xx; for 429
// and 5xx a retryable error, RetryAfter when the answer names a delay; any
// other status Permanent (a bad URL, key or payload stays bad). what names
// the service, detail adds what the body said (may be "").
func Classify(what string, a *Answer, detail string) error {
	if a.Status >= 200 && a.Status < 300 {
		return nil
	}
	if detail == "" {
		detail = Snippet(a.Body)
	}
	err := fmt.Errorf("%s answered %d %s", what, a.Status, http.StatusText(a.Status))
	if detail != "" {
		err = fmt.Errorf("%w: %s", err, detail)
	}
	if a.Status == http.StatusTooManyRequests || a.Status >= 500 {
		if d, ok := RetryAfter(a.Header.Get("Retry-After"), time.Now()); ok {
			return notifiers.RetryAfter(err, d)
		}
		return err
	}
	return notifiers.Permanent(err)
}

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 10.2.3). A date in the past means no wait.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Snippet is the start of an answer's body, on one line, for an error
// message.
func Snippet(b []byte) string {
	return notifiers.Truncate(notifiers.OneLine(string(b)), 200)
}
