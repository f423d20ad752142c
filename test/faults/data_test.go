package faults

import (
	"bytes"
	"compress/gzip"
	"testing"

	th "github.com/trailguard/trailguard/internal/testharness"
)

// gzSplit is a gzipped log file of head followed by rest, and the offset
// in the compressed bytes up to which exactly head's records can be
// decompressed (a sync flush follows them): cutting the file there, or
// stalling its transfer there, leaves a reader with head and nothing of
// rest.
func gzSplit(t *testing.T, head, rest []th.Record) (file []byte, cut int) {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	write := func(s string) {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"Records":[`)
	for _, r := range head {
		write(th.MustJSON(r) + ",")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	cut = buf.Len()
	for i, r := range rest {
		if i > 0 {
			write(",")
		}
		write(th.MustJSON(r))
	}
	write("]}")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), cut
}
