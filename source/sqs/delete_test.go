package sqs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/source/sqs"
)

// batchProxy sits between the consumer and fauxqs. It counts the
// DeleteMessageBatch calls and their entries, and can make SQS report the
// first entry of the next call as failed.
type batchProxy struct {
	calls, entries atomic.Int32
	failNext       atomic.Bool
}

func startBatchProxy(t *testing.T, target string) (*batchProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &batchProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Header.Get("X-Amz-Target") != "AmazonSQS.DeleteMessageBatch" {
			return nil
		}
		p.calls.Add(1)
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		var out struct {
			Successful []map[string]any `json:"Successful"`
			Failed     []map[string]any `json:"Failed"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Errorf("DeleteMessageBatch response: %v: %s", err, body)
		}
		p.entries.Add(int32(len(out.Successful) + len(out.Failed)))
		if len(out.Successful) > 0 && p.failNext.CompareAndSwap(true, false) {
			// Report the first entry as failed. fauxqs did delete it, which
			// the test does not mind: it checks what the consumer reports.
			first := out.Successful[0]
			out.Successful = out.Successful[1:]
			out.Failed = append(out.Failed, map[string]any{"Id": first["Id"], "Code": "ReceiptHandleIsInvalid", "Message": "injected", "SenderFault": true})
			body, _ = json.Marshal(out)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// Handled messages are deleted ten to a call when they finish together, and an
// entry SQS refuses is reported as a failed delete of that message only.
func TestDeletesInBatches(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	q := f.CreateQueue(t, "batches", nil)
	const n = 40
	for i := range n {
		f.Send(t, q, strconv.Itoa(i))
	}
	p, endpoint := startBatchProxy(t, f.Endpoint())
	p.failNext.Store(true)

	// All 20 workers' messages finish at about the same time.
	release := make(chan struct{})
	var handled atomic.Int32
	cfg := queue(q, endpoint)
	cfg.Workers, cfg.MaxMessages = 20, 10
	r := start(t, cfg, sqs.Deps{}, func(ctx context.Context, m *sqs.Message) error {
		handled.Add(1)
		<-release
		return nil
	})
	eventually(t, 10*time.Second, "20 messages in the handlers", func() bool { return handled.Load() == 20 })
	close(release)
	eventually(t, 20*time.Second, "every message settled", func() bool {
		return r.rec.deleted.Load()+r.rec.callErrors.Load() == n
	})
	r.stop(t)

	if got := r.rec.callErrors.Load(); got != 1 {
		t.Errorf("%d failed deletes reported, want 1 (the injected one)", got)
	}
	if got := r.rec.deleted.Load(); got != n-1 {
		t.Errorf("%d messages reported deleted, want %d", got, n-1)
	}
	calls, entries := p.calls.Load(), p.entries.Load()
	t.Logf("%d messages deleted in %d DeleteMessageBatch calls", entries, calls)
	if entries != n {
		t.Errorf("%d entries in DeleteMessageBatch calls, want %d", entries, n)
	}
	// 20 messages released at once go out in a few calls, not twenty.
	if calls > n/2 {
		t.Errorf("%d DeleteMessageBatch calls for %d messages: not batched", calls, n)
	}
}
