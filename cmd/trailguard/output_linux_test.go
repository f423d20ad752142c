package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/trailguard/trailguard/notifiers/stdout"
)

// openPTY opens a pseudo-terminal: what a program writes to tty, a terminal,
// can be read from pt.
func openPTY(t *testing.T) (pt, tty *os.File) {
	t.Helper()
	pt, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal to test with: %v", err)
	}
	t.Cleanup(func() { pt.Close() })
	fd := int(pt.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's terminal side: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return pt, tty
}

func TestOutputFormatOnATerminal(t *testing.T) {
	_, tty := openPTY(t)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		flag, noColor string
		want          stdout.Format
	}{
		{"auto", "", stdout.Color}, {"text", "", stdout.Color}, {"json", "", stdout.JSON},
		{"auto", "1", stdout.Text}, {"text", "1", stdout.Text},
	} {
		got, err := outputFormat(c.flag, tty, env(c.noColor))
		if err != nil || got != c.want {
			t.Errorf("--format %s, NO_COLOR=%q on a terminal: %v, %v; want %v", c.flag, c.noColor, got, err, c.want)
		}
	}
}

// eval on a terminal, without --format, prints coloured text a person reads,
// two lines per alert.
func TestEvalOnATerminal(t *testing.T) {
	if os.Getenv("NO_COLOR") != "" {
		t.Setenv("NO_COLOR", "")
	}
	pt, tty := openPTY(t)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pt) // ends with EIO once the terminal side is closed
		got <- b
	}()
	rec := `{"eventID":"e1","eventSource":"opsworks-cm.amazonaws.com","eventName":"DeleteServer","eventTime":"2023-01-01T00:00:00Z",` +
		`"userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root\u001b]0;owned\u0007"}}`
	var errb bytes.Buffer
	code := run(context.Background(), []string{"eval"}, strings.NewReader(rec), tty, &errb)
	tty.Close()
	out := strings.ReplaceAll(string(<-got), "\r\n", "\n")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if strings.HasPrefix(out, "{") || !strings.Contains(out, "opsworkscm.") || !strings.Contains(out, "DeleteServer by arn:aws:iam::1:root") {
		t.Fatalf("not text:\n%q", out)
	}
	if !strings.Contains(out, "\x1b[1;97;41mCRITICAL\x1b[0m") && !strings.Contains(out, "\x1b[1;31mHIGH\x1b[0m") {
		t.Errorf("severity not coloured:\n%q", out)
	}
	if !strings.Contains(out, "root ]0;owned") || strings.Contains(out, "\x1b]") || strings.Contains(out, "\a") {
		t.Errorf("an escape sequence from the event reached the terminal:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines)%2 != 0 || !strings.HasPrefix(lines[1], "         ") {
		t.Errorf("not two lines per alert:\n%s", out)
	}
}
