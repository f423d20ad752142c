package engine

import (
	"context"
	"sync/atomic"
)

// Reloader serves one Engine at a time and replaces it atomically: a new rule set
// is compiled off to the side while the old one keeps serving, and a rule set
// that fails to compile never replaces it. Each evaluation uses one whole rule
// set, never a mix.
type Reloader struct {
	current atomic.Pointer[Engine]
	build   func(ctx context.Context) (*Engine, error)
}

// NewReloader builds the first engine with build and keeps build for reloads.
func NewReloader(ctx context.Context, build func(ctx context.Context) (*Engine, error)) (*Reloader, error) {
	e, err := build(ctx)
	if err != nil {
		return nil, err
	}
	r := &Reloader{build: build}
	r.current.Store(e)
	return r, nil
}

// Engine returns the rule set now serving.
func (r *Reloader) Engine() *Engine { return r.current.Load() }

// Reload compiles the policies again and swaps them in. On error the previous
// rule set keeps serving and the error says why.
func (r *Reloader) Reload(ctx context.Context) (*Engine, error) {
	e, err := r.build(ctx)
	if err != nil {
		return nil, err
	}
	r.current.Store(e)
	return e, nil
}
