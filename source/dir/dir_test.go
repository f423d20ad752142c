package dir_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/source/dir"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// calls records what the handler was given.
type calls struct {
	mu   sync.Mutex
	list []string // "rel=content"
}

func (c *calls) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, s)
}

func (c *calls) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.list...)
}

// recordingHandler reads each file and records rel=content.
func recordingHandler(root string, c *calls) dir.Handler {
	return func(ctx context.Context, path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		c.add(filepath.ToSlash(rel) + "=" + string(b))
		return nil
	}
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestIsLogFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.json": true, "a.json.gz": true, "A.JSON": true, "a.jsonl": true, "a.ndjson": true, "a.gz": true,
		".a.json": false, "a.txt": false, "a.json.tmp": false, ".json": false, "json": false, "a.gz.part": false,
	} {
		if got := dir.IsLogFile(name); got != want {
			t.Errorf("IsLogFile(%q) = %v", name, got)
		}
	}
}

func TestNewRejectsMissingDir(t *testing.T) {
	if _, err := dir.New(config.Dir{Path: filepath.Join(t.TempDir(), "nope")}, dir.Deps{}); err == nil {
		t.Fatal("no error for a missing directory")
	}
	f := filepath.Join(t.TempDir(), "file.json")
	write(t, f, "{}")
	if _, err := dir.New(config.Dir{Path: f}, dir.Deps{}); err == nil {
		t.Fatal("no error for a file")
	}
}

func TestExistingFilesOnce(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{
		"z.ndjson", "a/b.json", "a/c.json.gz", "a-b.jsonl", "sub/deeper/e.gz",
		".hidden/x.json", "a/.dot.json", "notes.txt", "a/b.json.tmp",
	} {
		write(t, filepath.Join(root, rel), rel)
	}
	var c calls
	s, err := dir.New(config.Dir{Path: root}, dir.Deps{Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), recordingHandler(root, &c)); err != nil {
		t.Fatal(err)
	}
	want := []string{"a/b.json=a/b.json", "a/c.json.gz=a/c.json.gz", "a-b.jsonl=a-b.jsonl", "sub/deeper/e.gz=sub/deeper/e.gz", "z.ndjson=z.ndjson"}
	if got := c.get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("handled\n%v\nwant\n%v", got, want)
	}
}

func TestOnceReportsFailuresAndGoesOn(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.json"), "a")
	write(t, filepath.Join(root, "b.json"), "b")
	write(t, filepath.Join(root, "c.json"), "c")
	var c calls
	s, _ := dir.New(config.Dir{Path: root}, dir.Deps{Logger: logger(t)})
	bad := errors.New("not CloudTrail")
	err := s.Run(context.Background(), func(ctx context.Context, path string) error {
		c.add(filepath.Base(path))
		if filepath.Base(path) == "b.json" {
			return bad
		}
		return nil
	})
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), filepath.Join(root, "b.json")) {
		t.Fatalf("err = %v, want the failure naming b.json", err)
	}
	if got := fmt.Sprint(c.get()); got != "[a.json b.json c.json]" {
		t.Errorf("handled %s", got)
	}
}

// watch runs a watching source over root until the test ends.
func watch(t *testing.T, root string, deps dir.Deps, h dir.Handler, poll bool) {
	t.Helper()
	deps.Logger = logger(t)
	s, err := dir.New(config.Dir{Path: root, Watch: true}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if poll {
		dir.ForcePoll(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

func waitFor(t *testing.T, c *calls, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.get()
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled\n%q\nwant\n%q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testWatch(t *testing.T, poll bool) {
	root := t.TempDir()
	write(t, filepath.Join(root, "old/1.json"), "one")
	var c calls
	watch(t, root, dir.Deps{Settle: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond}, recordingHandler(root, &c), poll)
	waitFor(t, &c, "old/1.json=one")

	write(t, filepath.Join(root, "2.json"), "two")
	write(t, filepath.Join(root, "skip.txt"), "no")
	write(t, filepath.Join(root, ".tmp/3.json"), "no")
	waitFor(t, &c, "old/1.json=one", "2.json=two")

	// A new directory tree: files in it, even those written right after
	// it was made, before a watch could be added.
	write(t, filepath.Join(root, "new/deep/4.json.gz"), "four")
	waitFor(t, &c, "old/1.json=one", "2.json=two", "new/deep/4.json.gz=four")
	write(t, filepath.Join(root, "new/deep/5.json"), "five")
	waitFor(t, &c, "old/1.json=one", "2.json=two", "new/deep/4.json.gz=four", "new/deep/5.json=five")

	// Touching metadata does not make a file new; changing it does.
	if err := os.Chmod(filepath.Join(root, "2.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	write(t, filepath.Join(root, "2.json"), "two, amended")
	waitFor(t, &c, "old/1.json=one", "2.json=two", "new/deep/4.json.gz=four", "new/deep/5.json=five", "2.json=two, amended")
	time.Sleep(500 * time.Millisecond)
	waitFor(t, &c, "old/1.json=one", "2.json=two", "new/deep/4.json.gz=four", "new/deep/5.json=five", "2.json=two, amended")
}

func TestWatchNotify(t *testing.T) { testWatch(t, false) }
func TestWatchPoll(t *testing.T)   { testWatch(t, true) }

func testWatchPartialWrite(t *testing.T, poll bool) {
	root := t.TempDir()
	var c calls
	watch(t, root, dir.Deps{Settle: 400 * time.Millisecond, PollInterval: 100 * time.Millisecond}, recordingHandler(root, &c), poll)

	f, err := os.Create(filepath.Join(root, "big.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 10 { // a writer trickling over a second, in pauses shorter than Settle
		chunk := fmt.Sprintf(`{"chunk":%d}`, i)
		want.WriteString(chunk)
		if _, err := f.WriteString(chunk); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond)
		if got := c.get(); len(got) > 0 {
			t.Fatalf("handled while still being written: %q", got)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &c, "big.json="+want.String())
	time.Sleep(600 * time.Millisecond)
	waitFor(t, &c, "big.json="+want.String()) // once only
}

func TestWatchPartialWriteNotify(t *testing.T) { testWatchPartialWrite(t, false) }
func TestWatchPartialWritePoll(t *testing.T)   { testWatchPartialWrite(t, true) }

func TestWatchRetriesThenGivesUp(t *testing.T) {
	root := t.TempDir()
	var mu sync.Mutex
	attempts := map[string]int{}
	var c calls
	watch(t, root, dir.Deps{Settle: 100 * time.Millisecond, RetryDelay: 50 * time.Millisecond, MaxAttempts: 3}, func(ctx context.Context, path string) error {
		mu.Lock()
		attempts[filepath.Base(path)]++
		n := attempts[filepath.Base(path)]
		mu.Unlock()
		if filepath.Base(path) == "flaky.json" && n < 3 || filepath.Base(path) == "broken.json" {
			return errors.New("try again")
		}
		c.add(filepath.Base(path))
		return nil
	}, false)
	write(t, filepath.Join(root, "flaky.json"), "x")
	write(t, filepath.Join(root, "broken.json"), "y")
	waitFor(t, &c, "flaky.json")
	time.Sleep(time.Second) // 50+100ms of retries, then nothing more
	mu.Lock()
	defer mu.Unlock()
	if attempts["flaky.json"] != 3 || attempts["broken.json"] != 3 {
		t.Errorf("attempts %v, want 3 each", attempts)
	}
}

func TestWatchRemovedAndRecreated(t *testing.T) {
	root := t.TempDir()
	var c calls
	watch(t, root, dir.Deps{Settle: 100 * time.Millisecond}, recordingHandler(root, &c), false)
	p := filepath.Join(root, "a.json")
	write(t, p, "v1")
	waitFor(t, &c, "a.json=v1")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	write(t, p, "v2")
	waitFor(t, &c, "a.json=v1", "a.json=v2")
}
