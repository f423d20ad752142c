// Package stdout writes alerts to a terminal or a pipe: as JSON lines (one alert
// per line, with the stable field names of alert.Alert) for piping into other
// tools, or as text for people (see TextLine).
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

// Notifier writes each alert to an io.Writer, as one JSON line or as text.
type Notifier struct {
	name   string
	format Format
	mu     sync.Mutex // one alert per write, never interleaved
	w      io.Writer
}

// New returns a notifier writing JSON lines to w, named name ("stdout" when
// empty).
func New(name string, w io.Writer) *Notifier { return NewFormat(name, w, JSON) }

// NewFormat is New writing in format f.
func NewFormat(name string, w io.Writer, f Format) *Notifier {
	if name == "" {
		name = "stdout"
	}
	return &Notifier{name: name, w: w, format: f}
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
	var b []byte
	if n.format == JSON {
		var err error
		if b, err = json.Marshal(line{Alert: a, Note: note}); err != nil {
			return fmt.Errorf("encode alert: %w", err)
		}
	} else {
		b = []byte(TextLine(a, note, n.format == Color))
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
