package sqs

import "time"

// Observer is told what the consumer does, to count it. Calls come from
// many goroutines at once. Embed NopObserver to implement only some.
type Observer interface {
	// Received is called with the number of messages one receive returned.
	Received(count int)
	// Deleted is called when m was handled and deleted, took after it was
	// received.
	Deleted(m *Message, took time.Duration)
	// Failed is called when m's handler returned err (or panicked, or was
	// cut short by shutdown) and m was left in the queue.
	Failed(m *Message, err error)
	// VisibilityExtended is called after each extension of m's visibility.
	VisibilityExtended(m *Message)
	// HeldTooLong is called when m was held for MaxHold and its handler is
	// abandoned (Failed follows).
	HeldTooLong(m *Message)
	// ReceiveError is called when receiving (or reading the queue's
	// attributes at start) failed; the consumer backs off and tries again.
	ReceiveError(err error)
	// CallError is called when a call about m failed: op is
	// "DeleteMessage" (sent in a DeleteMessageBatch) or
	// "ChangeMessageVisibility".
	CallError(op string, m *Message, err error)
}

// NopObserver ignores everything.
type NopObserver struct{}

func (NopObserver) Received(int)                      {}
func (NopObserver) Deleted(*Message, time.Duration)   {}
func (NopObserver) Failed(*Message, error)            {}
func (NopObserver) VisibilityExtended(*Message)       {}
func (NopObserver) HeldTooLong(*Message)              {}
func (NopObserver) ReceiveError(error)                {}
func (NopObserver) CallError(string, *Message, error) {}
