package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// deleters is how many goroutines delete handled messages: one per ten
// workers, as each deletes up to ten messages per call.
func deleters(workers int) int { return max(1, (workers+9)/10) }

const maxBatch = 10 // SQS's limit for DeleteMessageBatch

// deletion is a handled message to delete, and what to call once it is.
type deletion struct {
	m       *Message
	settled func()
}

// deleteLoop deletes the messages it receives from in, as many at a time as
// are waiting (up to SQS's ten per DeleteMessageBatch), until in is closed. A
// lone message is deleted at once, so deleting adds no latency; under load the
// messages that finish during one call go together in the next, which saves
// nine calls in ten, and their CPU and round trips (and their cost on AWS).
func (c *Consumer) deleteLoop(base context.Context, in <-chan deletion) {
	batch := make([]deletion, 0, maxBatch)
	for d := range in {
		batch = append(batch[:0], d)
	fill:
		for len(batch) < maxBatch {
			select {
			case d, ok := <-in:
				if !ok {
					break fill
				}
				batch = append(batch, d)
			default:
				break fill
			}
		}
		c.deleteBatch(base, batch)
	}
}

// deleteBatch deletes handled messages. One that SQS does not confirm comes
// back after its visibility timeout: the work is done, and the alerts' dedup
// keys keep it from notifying twice.
func (c *Consumer) deleteBatch(base context.Context, batch []deletion) {
	ctx, cancel := context.WithTimeout(base, apiTimeout)
	defer cancel()
	entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
	for i, d := range batch {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(d.m.ReceiptHandle)}
	}
	out, err := c.client.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(c.cfg.QueueURL), Entries: entries})
	errs := batchErrors(len(batch), out, err)
	for i, d := range batch {
		m := d.m
		d.settled()
		log := c.deps.Logger.With("message_id", m.ID, "receive_count", m.ReceiveCount)
		if errs[i] != nil {
			err := fmt.Errorf("delete message %s: %w", m.ID, errs[i])
			c.deps.Observer.CallError("DeleteMessage", m, err)
			log.Error("handled message not deleted; it will be delivered again", "error", err)
			continue
		}
		c.deps.Observer.Deleted(m, time.Since(m.ReceivedAt))
		log.Debug("message handled and deleted", "took", time.Since(m.ReceivedAt).Round(time.Millisecond), "batch", len(batch))
	}
}

// batchErrors is each of n entries' outcome: the call's error for all when
// it failed, else nil only for the entries SQS lists as deleted.
func batchErrors(n int, out *awssqs.DeleteMessageBatchOutput, err error) []error {
	errs := make([]error, n)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i := range errs {
		errs[i] = errors.New("not confirmed in the DeleteMessageBatch response")
	}
	for _, e := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(e.Id)); err == nil && i >= 0 && i < n {
			errs[i] = nil
		}
	}
	for _, f := range out.Failed {
		if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < n {
			errs[i] = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return errs
}
