package progress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name        string
		done, total Counts
		elapsed     time.Duration
		width       int
		want        string
	}{
		{"nothing yet", Counts{}, Counts{Files: 120, Bytes: 4 << 20}, 0, 0,
			"[                    ]   0%  0/120 files  0 events  0 B/4.0 MiB  ETA --:--"},
		{"a quarter of the bytes in 10s", Counts{Files: 20, Events: 12345, Bytes: 1 << 20}, Counts{Files: 120, Bytes: 4 << 20}, 10 * time.Second, 0,
			"[=====               ]  25%  20/120 files  12,345 events  1.0 MiB/4.0 MiB  102.4 KiB/s  ETA 0:30"},
		{"files only (sizes unknown)", Counts{Files: 1, Events: 7, Bytes: 900}, Counts{Files: 4}, time.Hour, 0,
			"[=====               ]  25%  1/4 files  7 events  900 B  0 B/s  ETA 3:00:00"},
		{"done", Counts{Files: 4, Events: 1234567, Bytes: 3 << 30}, Counts{Files: 4, Bytes: 3 << 30}, 3 * time.Second, 0,
			"[====================] 100%  4/4 files  1,234,567 events  3.0 GiB/3.0 GiB  1.0 GiB/s  ETA 0:00"},
		{"cut to the terminal", Counts{Files: 1}, Counts{Files: 2}, time.Second, 30,
			"[==========          ]  50%  "},
	}
	for _, tt := range tests {
		if got := Render(tt.done, tt.total, tt.elapsed, tt.width); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestBytesAndThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 40: "5.0 TiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer that the test may read while the bar writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBarRedrawsAtMostTenTimesASecond(t *testing.T) {
	var out syncBuffer
	bar := Start(&out, 0, Counts{Files: 1000, Bytes: 1000})
	began := time.Now()
	for time.Since(began) < 550*time.Millisecond {
		bar.Add(1, 3, 1) // far more often than the bar may redraw
		time.Sleep(time.Millisecond)
	}
	bar.Write([]byte("error: a bad file\n"))
	time.Sleep(2 * Interval)
	bar.Stop()
	elapsed := time.Since(began)
	s := out.String()

	draws := strings.Count(s, "\x1b[K") - strings.Count(s, "\r\x1b[K")
	if max := int(elapsed/Interval) + 1; draws < 3 || draws > max {
		t.Errorf("%d redraws in %s, want 3..%d", draws, elapsed, max)
	}
	if !strings.Contains(s, "\r\x1b[Kerror: a bad file\n\r[") {
		t.Errorf("a message was not written on a cleared line, the bar drawn again below it:\n%q", s)
	}
	if !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("Stop did not clear the line: %q", s[max(0, len(s)-80):])
	}
	if !strings.Contains(s, "/1000 files") || !strings.Contains(s, " events ") {
		t.Errorf("bar: %q", s[:min(len(s), 200)])
	}
	// Nothing is drawn after Stop.
	n := len(out.String())
	time.Sleep(2 * Interval)
	if len(out.String()) != n {
		t.Error("the bar was drawn after Stop")
	}
}

func TestNilBar(t *testing.T) {
	var bar *Bar
	bar.Add(1, 1, 1)
	bar.Stop()
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]io.Writer{"a file": f, "/dev/null": null, "a pipe": w, "a buffer": &bytes.Buffer{}} {
		if IsTerminal(out) {
			t.Errorf("%s taken for a terminal", name)
		}
	}
	if Width(f) != 0 || Width(&bytes.Buffer{}) != 0 {
		t.Error("a width for what is no terminal")
	}
}
