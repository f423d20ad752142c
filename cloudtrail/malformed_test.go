package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

// A log whose "Records" is not an array is a malformed log, not one event: a
// fatal error naming the input (so the message is kept for the dead-letter
// queue), and no record.
func TestReaderRecordsNotArray(t *testing.T) {
	for _, c := range []struct{ value, kind string }{
		{`{` + recA[1:], "an object"},
		{`"` + strings.Repeat("x", 10) + `"`, "a string"},
		{`42`, "a number"},
		{`-1.5e3`, "a number"},
		{`null`, "null"},
		{`true`, "a boolean"},
	} {
		for _, in := range []string{
			`{"Records":` + c.value + `}`,
			`{"Records" : ` + c.value + `, "x": 1}`,
			`{"digest":"d","Records":` + c.value + `}`,
		} {
			for _, zipped := range []bool{false, true} {
				b := []byte(in)
				if zipped {
					b = gz(b)
				}
				ids, errs := readAll(t, b, cloudtrail.Limits{})
				if len(ids) != 0 || len(errs) != 1 {
					t.Errorf("%s: records %q, errors %v; want one error and no record", in, ids, errs)
					continue
				}
				de, ok := errors.AsType[*cloudtrail.DecodeError](errs[0])
				if !ok || !de.Fatal || !errors.Is(errs[0], cloudtrail.ErrMalformedLog) {
					t.Errorf("%s: %v: want a fatal *DecodeError wrapping ErrMalformedLog", in, errs[0])
					continue
				}
				if msg := errs[0].Error(); !strings.HasPrefix(msg, "in.json:1:") || !strings.Contains(msg, `"Records" is `+c.kind+", not an array") {
					t.Errorf("%s: error %q does not name the input and what Records is", in, msg)
				}
			}
		}
	}
	// A record that merely has an array named Records elsewhere is still read.
	ids, errs := readAll(t, []byte(`{"Records":[`+recA+`]}`+"\n"+recB), cloudtrail.Limits{})
	if strings.Join(ids, ",") != "a,b" || len(errs) != 0 {
		t.Errorf("records %v errors %v", ids, errs)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// A zero-filled gzip bomb (256 MiB of zeros in 256 KiB of gzip) is garbage
// from byte 0 with no line break to resynchronise on: the reader reports it at
// byte 0 and stops after little more than a record's size limit of inflated
// input, rather than inflating it to the input limit. The same inside a
// records array, where the zeros are one endless bare value.
func TestReaderZeroBombStopsEarly(t *testing.T) {
	const inflated = 256 << 20
	for _, c := range []struct{ name, head string }{
		{"top level", ""},
		{"records array", `{"Records":[` + recA + ","},
		{"after a good line", recB + "\n"},
	} {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		w.Write([]byte(c.head))
		zeros := make([]byte, 1<<20)
		for range inflated >> 20 {
			w.Write(zeros)
		}
		w.Close()
		compressed := buf.Len()
		src := &countingReader{r: &buf}
		r, err := cloudtrail.NewReader(src, "bomb.gz", cloudtrail.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var errs []error
		var recs int
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			recs++
		}
		r.Close()
		if recs != strings.Count(c.head, "eventID") || len(errs) != 1 {
			t.Errorf("%s: %d records, errors %v; want the %d before the zeros and one error", c.name, recs, errs, strings.Count(c.head, "eventID"))
			continue
		}
		de, ok := errors.AsType[*cloudtrail.DecodeError](errs[0])
		// At the zeros' first byte, or, in an array, where the value is found
		// to be longer than any record may be.
		if at := de.Offset - int64(len(c.head)); !ok || !de.Fatal || at < 0 || at > 2*cloudtrail.DefaultMaxRecordBytes {
			t.Errorf("%s: %v: want a fatal error at byte %d or within a record's size after it", c.name, errs[0], len(c.head))
		}
		// 1 MiB of zeros is about 1 KiB of gzip; the reader's buffer reads 64 KiB at once.
		if src.n > 160<<10 {
			t.Errorf("%s: read %d of the %d compressed bytes (%d MiB inflated) before stopping", c.name, src.n, compressed, inflated>>20)
		}
		t.Logf("%s: read %d of %d compressed bytes: %v", c.name, src.n, compressed, errs[0])
	}
}
