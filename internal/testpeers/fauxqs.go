package testpeers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Fauxqs is a running fauxqs server (an SQS emulator speaking the AWS JSON
// 1.0 protocol) in a node child process, listening on 127.0.0.1.
type Fauxqs struct {
	endpoint string
	client   *sqs.Client

	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{}
	output *tailBuffer
	stop   sync.Once
}

// StartFauxqs starts fauxqs on a free loopback port and stops it when the
// test ends. On a fresh clone it first runs `npm ci` in test/fauxqs. It fails
// the test when node is not installed: the SQS tests are the product's
// delivery guarantees and must not silently skip.
func StartFauxqs(t testing.TB) *Fauxqs {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("testpeers: node is not in PATH; the SQS tests run fauxqs under Node.js (>= 20) with npm: %v", err)
	}
	dir, err := fauxqsDir()
	if err != nil {
		t.Fatalf("testpeers: find test/fauxqs: %v", err)
	}
	ensureNodeModules(t, dir)

	// The port is picked here and handed to node, so another process can
	// grab it in between; try again with a new port when that happens.
	var errs []error
	for range 3 {
		f, err := startFauxqs(node, dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t.Cleanup(f.Stop)
		f.client = sqs.NewFromConfig(awsConfig(t), func(o *sqs.Options) {
			o.BaseEndpoint = aws.String(f.endpoint)
		})
		return f
	}
	t.Fatalf("testpeers: start fauxqs: %v", errors.Join(errs...))
	return nil
}

func startFauxqs(node, dir string) (*Fauxqs, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	f := &Fauxqs{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		exited:   make(chan struct{}),
		output:   &tailBuffer{max: 8 << 10},
	}
	f.cmd = exec.Command(node, "server.mjs", strconv.Itoa(port))
	f.cmd.Dir = dir
	f.cmd.Stdout = f.output
	f.cmd.Stderr = f.output
	// server.mjs exits when its stdin closes: if this test binary dies
	// without running cleanups, node does not outlive it.
	stdin, err := f.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	f.stdin = stdin
	if err := f.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s server.mjs: %w", node, err)
	}
	go func() {
		_ = f.cmd.Wait() // the exit status of a server we stop says nothing
		close(f.exited)
	}()

	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(f.endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return f, nil
			}
		}
		select {
		case <-f.exited:
			return nil, fmt.Errorf("fauxqs on port %d exited: %v\n%s", port, f.cmd.ProcessState, f.output)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("fauxqs on port %d not healthy after 30s (last error %w)\n%s", port, err, f.output)
		}
	}
}

// Stop ends the server; the test's cleanup calls it too. Later requests to
// Endpoint fail with "connection refused".
func (f *Fauxqs) Stop() {
	f.stop.Do(func() {
		f.stdin.Close()
		select {
		case <-f.exited:
			return
		case <-time.After(2 * time.Second):
		}
		_ = f.cmd.Process.Kill()
		<-f.exited
	})
}

// Endpoint is the server's base URL, http://127.0.0.1:PORT: the SQS client's
// BaseEndpoint (the daemon's sqs endpoint setting).
func (f *Fauxqs) Endpoint() string { return f.endpoint }

// SQSClient is a client for the server with static test credentials.
func (f *Fauxqs) SQSClient() *sqs.Client { return f.client }

// CreateQueue creates a queue and returns its URL, exactly as fauxqs
// returned it: fauxqs finds a queue by that URL only. attrs are SQS queue
// attributes such as "VisibilityTimeout": "2" or "RedrivePolicy" (see
// [RedrivePolicy]).
func (f *Fauxqs) CreateQueue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out := call(t, fmt.Sprintf("create queue %q", name), func(ctx context.Context) (*sqs.CreateQueueOutput, error) {
		return f.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	})
	return aws.ToString(out.QueueUrl)
}

// CreateQueueWithDLQ creates the queue name with a dead-letter queue
// name+"-dlq" that receives a message after maxReceiveCount receives.
func (f *Fauxqs) CreateQueueWithDLQ(t testing.TB, name string, maxReceiveCount int, attrs map[string]string) (queueURL, dlqURL string) {
	t.Helper()
	dlqURL = f.CreateQueue(t, name+"-dlq", nil)
	a := map[string]string{"RedrivePolicy": RedrivePolicy(f.QueueARN(t, dlqURL), maxReceiveCount)}
	for k, v := range attrs {
		a[k] = v
	}
	return f.CreateQueue(t, name, a), dlqURL
}

// RedrivePolicy is the value of the RedrivePolicy queue attribute.
func RedrivePolicy(dlqARN string, maxReceiveCount int) string {
	return fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqARN, maxReceiveCount)
}

// QueueARN returns the queue's QueueArn attribute.
func (f *Fauxqs) QueueARN(t testing.TB, queueURL string) string {
	t.Helper()
	return f.attributes(t, queueURL, types.QueueAttributeNameQueueArn)[string(types.QueueAttributeNameQueueArn)]
}

// Send sends body to the queue and returns the message id.
func (f *Fauxqs) Send(t testing.TB, queueURL, body string) string {
	t.Helper()
	out := call(t, "send to "+queueURL, func(ctx context.Context) (*sqs.SendMessageOutput, error) {
		return f.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	})
	return aws.ToString(out.MessageId)
}

// Receive long-polls the queue for up to wait and returns at most max
// messages (1..10) with their ApproximateReceiveCount. The messages become
// invisible for the queue's visibility timeout, as for any consumer.
func (f *Fauxqs) Receive(t testing.TB, queueURL string, max int, wait time.Duration) []types.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait+10*time.Second)
	defer cancel()
	out, err := f.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("testpeers: receive from %s: %v", queueURL, err)
	}
	return out.Messages
}

// ApproxCounts returns the queue's ApproximateNumberOfMessages (visible) and
// ApproximateNumberOfMessagesNotVisible (in flight: received, not deleted).
// Delayed messages are not counted.
func (f *Fauxqs) ApproxCounts(t testing.TB, queueURL string) (visible, inflight int) {
	t.Helper()
	a := f.attributes(t, queueURL,
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	visible = atoi(t, a, types.QueueAttributeNameApproximateNumberOfMessages)
	inflight = atoi(t, a, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	return visible, inflight
}

// WaitCounts polls ApproxCounts until it reports visible and inflight, and
// fails the test with the last counts after timeout.
func (f *Fauxqs) WaitCounts(t testing.TB, queueURL string, visible, inflight int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, i := f.ApproxCounts(t, queueURL)
		if v == visible && i == inflight {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testpeers: %s: after %s %d visible and %d in flight, want %d and %d", queueURL, timeout, v, i, visible, inflight)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *Fauxqs) attributes(t testing.TB, queueURL string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out := call(t, "attributes of "+queueURL, func(ctx context.Context) (*sqs.GetQueueAttributesOutput, error) {
		return f.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: names})
	})
	return out.Attributes
}

func atoi(t testing.TB, attrs map[string]string, name types.QueueAttributeName) int {
	t.Helper()
	n, err := strconv.Atoi(attrs[string(name)])
	if err != nil {
		t.Fatalf("testpeers: queue attribute %s = %q: %v", name, attrs[string(name)], err)
	}
	return n
}

func apiContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// call makes one API call with a bounded context and fails the test on error.
func call[T any](t testing.TB, what string, f func(context.Context) (T, error)) T {
	t.Helper()
	ctx, cancel := apiContext()
	defer cancel()
	out, err := f(ctx)
	if err != nil {
		t.Fatalf("testpeers: %s: %v", what, err)
	}
	return out
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
