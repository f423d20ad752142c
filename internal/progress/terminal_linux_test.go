package progress

import (
	"os"
	"testing"
)

// The master side of a pseudo-terminal is a terminal: IsTerminal must say
// so, or the bar would never show.
func TestIsTerminalPTY(t *testing.T) {
	f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal to test with: %v", err)
	}
	defer f.Close()
	if !IsTerminal(f) {
		t.Error("/dev/ptmx not taken for a terminal")
	}
}
