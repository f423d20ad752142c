// Package stdout writes alerts as JSON lines: one alert per line, with the stable
// field names of alert.Alert, for `trailguard eval` and for piping into other tools.
package stdout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// Notifier writes each alert as one JSON line to an io.Writer.
type Notifier struct {
	name string
	mu   sync.Mutex // one line per write, never interleaved
	w    io.Writer
}

// New returns a notifier writing to w, named name ("stdout" when empty).
func New(name string, w io.Writer) *Notifier {
	if name == "" {
		name = "stdout"
	}
	return &Notifier{name: name, w: w}
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// line is alert.Alert with the dispatcher's note added as one more key, so
// consumers of the plain alert format are unaffected.
type line struct {
	*alert.Alert
	Note string `json:"note,omitempty"`
}

// Notify implements notifiers.Notifier.
func (n *Notifier) Notify(_ context.Context, a *alert.Alert, note string) error {
	b, err := json.Marshal(line{Alert: a, Note: note})
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	b = append(b, '\n')
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.w.Write(b); err != nil {
		return fmt.Errorf("write alert: %w", err)
	}
	return nil
}

var _ notifiers.Notifier = (*Notifier)(nil)
