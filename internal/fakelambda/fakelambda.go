// Package fakelambda is an AWS Lambda Runtime API peer for tests: an httptest
// server in the shape of the API that Lambda serves to a custom runtime at
// $AWS_LAMBDA_RUNTIME_API, which hands out invocations and records the
// answers. It is used by tests only.
//
// Served, as AWS documents them (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// and runtimes-extensions-api.html):
//
//	GET  /2018-06-01/runtime/invocation/next           blocks until an invocation; the event is the body
//	POST /2018-06-01/runtime/invocation/{id}/response  202
//	POST /2018-06-01/runtime/invocation/{id}/error     202
//	POST /2018-06-01/runtime/init/error                202
//	POST /2020-01-01/extension/register                200, Lambda-Extension-Identifier
//	GET  /2020-01-01/extension/event/next              blocks until Shutdown
//
// Answers to an unknown or already answered request id are 400, as Lambda's.
// Bodies are read whole whatever their framing: aws-lambda-go posts its
// answers chunked, without Content-Length.
package fakelambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FunctionARN is the function every invocation is for.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:trailguard"

// Result is how the runtime answered one invocation.
type Result struct {
	RequestID string
	// Error is set when the runtime posted to /error rather than /response.
	Error bool
	// ErrorType is the Lambda-Runtime-Function-Error-Type header of an error.
	ErrorType string
	// Body is what was posted.
	Body []byte
	// Took is from the hand-out of the invocation to its answer.
	Took time.Duration
}

// InitError is what the runtime posted to /runtime/init/error.
type InitError struct {
	Type string // the Lambda-Runtime-Function-Error-Type header
	Body []byte
}

type invocation struct {
	id      string
	payload []byte
	timeout time.Duration
	given   time.Time
	done    chan Result
}

// Runtime is the Runtime API of one execution environment.
type Runtime struct {
	srv      *httptest.Server
	pending  chan *invocation
	shutdown chan struct{}
	closed   chan struct{}
	shutOnce sync.Once

	mu         sync.Mutex
	inflight   map[string]*invocation
	nexts      []time.Time // when each GET .../invocation/next arrived
	extensions []string
	initErrs   []InitError
	initErrCh  chan struct{}
}

// New starts a Runtime API; it is closed when the test ends.
func New(t testing.TB) *Runtime {
	r := &Runtime{
		pending:   make(chan *invocation),
		shutdown:  make(chan struct{}),
		closed:    make(chan struct{}),
		inflight:  map[string]*invocation{},
		initErrCh: make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", r.answer(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", r.answer(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", r.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", r.register)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", r.extensionNext)
	r.srv = httptest.NewServer(mux)
	// Cleanups run last first: the blocked requests are let go before
	// Close waits for them.
	t.Cleanup(r.srv.Close)
	t.Cleanup(func() { close(r.closed) })
	return r
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (r *Runtime) Addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// Invoke hands payload to the runtime's next GET .../invocation/next, with a
// deadline timeout after that, and returns the runtime's answer. It fails
// when ctx ends first.
func (r *Runtime) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Result, error) {
	inv := &invocation{id: newID(), payload: payload, timeout: timeout, done: make(chan Result, 1)}
	select {
	case r.pending <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("fakelambda: no runtime asked for invocation %s: %w", inv.id, ctx.Err())
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("fakelambda: invocation %s not answered: %w", inv.id, ctx.Err())
	}
}

// Shutdown ends the extensions' blocked event/next with a SHUTDOWN event,
// as Lambda does before it sends SIGTERM.
func (r *Runtime) Shutdown() { r.shutOnce.Do(func() { close(r.shutdown) }) }

// Nexts returns when each GET .../invocation/next arrived: the first is when
// the runtime finished its initialisation.
func (r *Runtime) Nexts() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.nexts...)
}

// Extensions returns the names that registered as extensions.
func (r *Runtime) Extensions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.extensions...)
}

// InitErrors returns what was posted to /runtime/init/error.
func (r *Runtime) InitErrors() []InitError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]InitError(nil), r.initErrs...)
}

// InitErrorPosted is signalled after the first init error arrived.
func (r *Runtime) InitErrorPosted() <-chan struct{} { return r.initErrCh }

func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.nexts = append(r.nexts, time.Now())
	r.mu.Unlock()
	var inv *invocation
	select {
	case inv = <-r.pending:
	case <-req.Context().Done():
		return
	case <-r.closed:
		http.Error(w, "runtime API closed", http.StatusInternalServerError)
		return
	}
	inv.given = time.Now()
	r.mu.Lock()
	r.inflight[inv.id] = inv
	r.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.given.Add(inv.timeout).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (r *Runtime) answer(isErr bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, ok := readBody(w, req)
		if !ok {
			return
		}
		id := req.PathValue("id")
		r.mu.Lock()
		inv := r.inflight[id]
		delete(r.inflight, id)
		r.mu.Unlock()
		if inv == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
			return
		}
		inv.done <- Result{
			RequestID: id, Error: isErr, ErrorType: req.Header.Get("Lambda-Runtime-Function-Error-Type"),
			Body: body, Took: time.Since(inv.given),
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
	}
}

func (r *Runtime) initError(w http.ResponseWriter, req *http.Request) {
	body, ok := readBody(w, req)
	if !ok {
		return
	}
	r.mu.Lock()
	r.initErrs = append(r.initErrs, InitError{Type: req.Header.Get("Lambda-Runtime-Function-Error-Type"), Body: body})
	r.mu.Unlock()
	select {
	case r.initErrCh <- struct{}{}:
	default:
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func (r *Runtime) register(w http.ResponseWriter, req *http.Request) {
	name := req.Header.Get("Lambda-Extension-Name")
	if name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": "missing Lambda-Extension-Name", "errorType": "InvalidRequest"})
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	r.extensions = append(r.extensions, name)
	r.mu.Unlock()
	w.Header().Set("Lambda-Extension-Identifier", newID())
	writeJSON(w, http.StatusOK, map[string]string{"functionName": "trailguard", "functionVersion": "$LATEST", "handler": "bootstrap"})
}

func (r *Runtime) extensionNext(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Lambda-Extension-Identifier") == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"errorMessage": "missing Lambda-Extension-Identifier", "errorType": "Extension.MissingExtensionIdentifier"})
		return
	}
	select {
	case <-r.shutdown:
		writeJSON(w, http.StatusOK, map[string]any{
			"eventType": "SHUTDOWN", "shutdownReason": "spindown",
			"deadlineMs": time.Now().Add(2 * time.Second).UnixMilli(),
		})
	case <-req.Context().Done():
	case <-r.closed:
	}
}

// readBody reads a request's whole body, chunked or not, or answers 400.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
	}
	return body, err == nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
