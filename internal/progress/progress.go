// Package progress draws a one-line progress bar for a long run over many
// files: files done of the total, events, bytes, rate and time left.
//
// It is for a person at a terminal: when standard error is a pipe or a file
// (CI, `2> log`), there is no bar at all, since its carriage returns would
// only clutter the log. A nil *Bar is valid and draws nothing, so callers
// need no checks of their own.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Interval is the time between redraws: ten a second look live without
// spending the terminal's or the CPU's time on repaints nobody can read.
const Interval = 100 * time.Millisecond

// IsTerminal reports whether w is a terminal (not a pipe, a file or
// /dev/null, which is a character device too).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Width is the terminal's width in columns, or 0 when unknown.
func Width(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// Counts are what a run has done, or is to do.
type Counts struct {
	Files  int
	Events int
	Bytes  int64
}

// Bar redraws its line every Interval until Stop. Its methods are safe for
// concurrent use.
type Bar struct {
	w     io.Writer
	width int
	total Counts
	start time.Time

	files, events, bytes atomic.Int64

	mu    sync.Mutex
	shown string // the line on screen, "" when cleared

	stop chan struct{}
	done chan struct{}
}

// Start draws a bar for total (Events is not known ahead and ignored; Bytes
// 0 means unknown) on w, width columns wide (0: no limit), and redraws it
// until Stop.
func Start(w io.Writer, width int, total Counts) *Bar {
	b := &Bar{w: w, width: width, total: total, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *Bar) loop() {
	defer close(b.done)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.redraw()
		}
	}
}

// Add counts files done, events read and bytes read.
func (b *Bar) Add(files, events int, bytes int64) {
	if b == nil {
		return
	}
	b.files.Add(int64(files))
	b.events.Add(int64(events))
	b.bytes.Add(bytes)
}

// Write writes p to the bar's writer, above the bar: the bar's line is
// cleared first and drawn again at the next redraw. Other output to the
// same terminal goes through it so that lines are not mixed with the bar.
func (b *Bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear()
	return b.w.Write(p)
}

// Stop stops the redraws and clears the line, so that what is printed next
// (a summary) starts on a clean line. It waits for the redrawing goroutine.
func (b *Bar) Stop() {
	if b == nil {
		return
	}
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear()
}

func (b *Bar) redraw() {
	done := Counts{Files: int(b.files.Load()), Events: int(b.events.Load()), Bytes: b.bytes.Load()}
	line := Render(done, b.total, time.Since(b.start), b.width)
	b.mu.Lock()
	defer b.mu.Unlock()
	if line == b.shown {
		return
	}
	// Carriage return, the line, and erase what a longer line left behind.
	fmt.Fprint(b.w, "\r"+line+"\x1b[K")
	b.shown = line
}

func (b *Bar) clear() {
	if b.shown != "" {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.shown = ""
	}
}

const barWidth = 20

// Render is the bar's line: a gauge, files done of the total, events, bytes
// (of the total when known), the rate, and the time left, estimated from
// the bytes when their total is known and from the files otherwise. The
// line is cut to width-1 columns (width 0: not cut) so it never wraps.
func Render(done, total Counts, elapsed time.Duration, width int) string {
	frac := 0.0
	switch {
	case total.Bytes > 0:
		frac = float64(done.Bytes) / float64(total.Bytes)
	case total.Files > 0:
		frac = float64(done.Files) / float64(total.Files)
	}
	frac = min(max(frac, 0), 1)
	fill := int(frac * barWidth)
	var b strings.Builder
	b.WriteString("[" + strings.Repeat("=", fill) + strings.Repeat(" ", barWidth-fill) + "]")
	fmt.Fprintf(&b, " %3d%%  %d/%d files  %s events  %s", int(frac*100), done.Files, total.Files, thousands(int64(done.Events)), Bytes(done.Bytes))
	if total.Bytes > 0 {
		b.WriteString("/" + Bytes(total.Bytes))
	}
	if secs := elapsed.Seconds(); secs > 0 {
		b.WriteString("  " + Bytes(int64(float64(done.Bytes)/secs)) + "/s")
	}
	b.WriteString("  ETA ")
	if frac > 0 && frac < 1 {
		b.WriteString(clock(time.Duration(float64(elapsed) * (1 - frac) / frac)))
	} else if frac >= 1 {
		b.WriteString(clock(0))
	} else {
		b.WriteString("--:--")
	}
	line := b.String()
	if width > 1 && len(line) > width-1 {
		line = line[:width-1]
	}
	return line
}

// Bytes formats n in binary units, e.g. 1.5 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, exp := float64(n)/unit, 0
	for v >= unit && exp < 4 {
		v /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[exp])
}

// clock formats d as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// thousands formats n with comma separators, e.g. 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
