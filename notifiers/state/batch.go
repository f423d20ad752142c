package state

import "context"

// Batch is one input's unit of work on the stateful records: the daemon
// begins one per log file, feeds the file's candidates, and commits it before
// the file is acknowledged. Records that write every step at once (Memory,
// Redis) have nothing to do; SQLite holds the steps back and writes them in
// one transaction at Commit, instead of one transaction per candidate.
//
// Why this is sound: a step held back dies with the process, but so does the
// acknowledgement of its file, which waits for Commit; the file comes back
// and its candidates are counted again, once each (steps are idempotent per
// event id). A step that makes its rule fire is written before its alert
// leaves the process, so a redelivery finds the firing and gives the same
// alert, which the delivery claim keeps to one notification.
type Batch interface {
	// Commit writes every step held back so far, other batches' too
	// (writing a step early is always sound), and ends the batch. An error
	// says the steps may not be stored: the input must not be acknowledged.
	Commit(ctx context.Context) error
}

// Batcher is implemented by the Records that hold steps back (SQLite).
type Batcher interface {
	// Begin opens a batch: until it is committed, steps are held back.
	Begin() Batch
}

// Begin opens a batch on r, or one with nothing to do when r writes every
// step at once.
func Begin(r Records) Batch {
	if b, ok := r.(Batcher); ok {
		return b.Begin()
	}
	return noBatch{}
}

type noBatch struct{}

func (noBatch) Commit(context.Context) error { return nil }

// committer is implemented by the Records that hold steps back: Stateful
// commits before a firing leaves (see step).
type committer interface {
	commit(ctx context.Context) error
}
