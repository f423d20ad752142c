package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

// result is one call of Next.
type result struct {
	rec cloudtrail.Record
	err error
}

func (r result) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("record %d (%d bytes)", r.rec.Index, len(r.rec.Raw))
}

// nextAll calls Next until io.EOF (at most 100 times) and checks that a fatal
// error is the last thing returned.
func nextAll(t *testing.T, in io.Reader, source string, limits cloudtrail.Limits) []result {
	t.Helper()
	r, err := cloudtrail.NewReader(in, source, limits)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []result
	for range 100 {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if len(out) > 0 {
			if de := (*cloudtrail.DecodeError)(nil); errors.As(out[len(out)-1].err, &de) && de.Fatal {
				t.Fatalf("Next returned %v after the fatal error %v", err, de)
			}
		}
		out = append(out, result{rec, err})
	}
	t.Fatal("no io.EOF after 100 calls")
	return nil
}

// wantLimitError checks that err is a *DecodeError naming source and saying
// which limit it passed.
func wantLimitError(t *testing.T, err error, source string, fatal bool, says ...string) *cloudtrail.DecodeError {
	t.Helper()
	var de *cloudtrail.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("want a *cloudtrail.DecodeError, got %T %v", err, err)
	}
	if de.Fatal != fatal {
		t.Errorf("%v: Fatal=%v, want %v", err, de.Fatal, fatal)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, source+":") {
		t.Errorf("error %q does not start with the source %q", msg, source)
	}
	for _, s := range says {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
	return de
}

// record returns a record of exactly size bytes.
func record(id string, size int) string {
	head := `{"eventID":"` + id + `","pad":"`
	return head + strings.Repeat("x", size-len(head)-2) + `"}`
}

// A record of the default 1 MiB passes; one byte more is refused, with an error
// naming the source and the limit, and the records after it are still read.
func TestLimitDefaultRecordSize(t *testing.T) {
	fits, over := record("fits", cloudtrail.DefaultMaxRecordBytes), record("over", cloudtrail.DefaultMaxRecordBytes+1)
	if len(fits) != 1<<20 || len(over) != 1<<20+1 {
		t.Fatalf("record sizes %d and %d", len(fits), len(over))
	}
	for name, in := range map[string]string{
		"delivery file": `{"Records":[` + fits + "," + over + "," + recB + `]}`,
		"ndjson":        fits + "\n" + over + "\n" + recB + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := nextAll(t, strings.NewReader(in), "big.json", cloudtrail.Limits{})
			if len(got) != 3 || got[0].err != nil || got[2].err != nil || len(got[0].rec.Raw) != 1<<20 || !bytes.Contains(got[2].rec.Raw, []byte(`"b"`)) {
				t.Fatalf("want the 1 MiB record, an error, record b; got %d results", len(got))
			}
			de := wantLimitError(t, got[1].err, "big.json", false, "record 1", "record larger than 1048576 bytes")
			if !errors.Is(de, cloudtrail.ErrTooLarge) {
				t.Errorf("%v does not wrap ErrTooLarge", de)
			}
		})
	}
}

func TestLimitRecordSizeConfigured(t *testing.T) {
	in := `{"Records":[` + record("fits", 1000) + "," + record("over", 1001) + `]}`
	got := nextAll(t, strings.NewReader(in), "s3://trail-bucket/k.json.gz", cloudtrail.Limits{MaxRecordBytes: 1000})
	if len(got) != 2 || got[0].err != nil {
		t.Fatalf("got %d results, first error %v", len(got), got[0].err)
	}
	wantLimitError(t, got[1].err, "s3://trail-bucket/k.json.gz", false, "record larger than 1000 bytes")
}

// nested returns a record holding an array nested so that the record is depth deep.
func nested(id string, depth int) string {
	return `{"eventID":"` + id + `","d":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
}

func TestLimitDefaultDepth(t *testing.T) {
	max := cloudtrail.DefaultMaxDepth
	for name, in := range map[string]string{
		"delivery file": `{"Records":[` + nested("fits", max) + "," + nested("deep", max+1) + "," + recB + `]}`,
		"ndjson":        nested("fits", max) + "\n" + nested("deep", max+1) + "\n" + recB,
	} {
		t.Run(name, func(t *testing.T) {
			got := nextAll(t, strings.NewReader(in), "deep.json", cloudtrail.Limits{})
			if len(got) != 3 || got[0].err != nil || got[2].err != nil {
				t.Fatalf("want a record, an error, a record; got %v", got)
			}
			wantLimitError(t, got[1].err, "deep.json", false, "record 1", "JSON nested 65 deep, more than the limit of 64")
		})
	}
}

func TestLimitDepthConfigured(t *testing.T) {
	got := nextAll(t, strings.NewReader(nested("fits", 3)+nested("deep", 4)), "d.json", cloudtrail.Limits{MaxDepth: 3})
	if len(got) != 2 || got[0].err != nil {
		t.Fatalf("got %v", got)
	}
	wantLimitError(t, got[1].err, "d.json", false, "more than the limit of 3")
}

// A gzip bomb: a few KiB that inflate to 16 MiB stop at the limit, with a fatal
// error naming the source and the limit, after the records before it.
func TestLimitGzipBomb(t *testing.T) {
	const limit = 1 << 20
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	io.WriteString(zw, `{"Records":[`+recA+`,{"eventID":"bomb","pad":"`)
	zeros := make([]byte, 1<<20)
	for range 16 {
		zw.Write(zeros)
	}
	io.WriteString(zw, `"}]}`)
	zw.Close()
	if buf.Len() > 64<<10 {
		t.Fatalf("the bomb is %d bytes compressed; want a small one", buf.Len())
	}

	got := nextAll(t, bytes.NewReader(buf.Bytes()), "bomb.json.gz", cloudtrail.Limits{MaxBytes: limit})
	if len(got) != 2 || got[0].err != nil || !bytes.Contains(got[0].rec.Raw, []byte(`"a"`)) {
		t.Fatalf("want record a then an error, got %v", got)
	}
	de := wantLimitError(t, got[1].err, "bomb.json.gz", true, "decompressed input larger than 1048576 bytes")
	if !errors.Is(de, cloudtrail.ErrTooLarge) {
		t.Errorf("%v does not wrap ErrTooLarge", de)
	}
	if de.Offset > limit {
		t.Errorf("read to byte %d, past the limit of %d", de.Offset, limit)
	}
}

// Regression: telling whether a key of a top-level object is "Records" copied
// everything read of the object so far, for every key of that length, so a
// 240 KB record of short keys cost gigabytes of copying (30 s for 1 MB).
func TestTopLevelObjectKeysAreLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"eventID":"k"`)
	for range 20000 {
		b.WriteString(`,"abcdefg":1`) // a key as long as "Records"
	}
	b.WriteString("}")
	in := b.String()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := nextAll(t, strings.NewReader(in), "keys.json", cloudtrail.Limits{})
	runtime.ReadMemStats(&after)
	if len(got) != 1 || got[0].err != nil || len(got[0].rec.Raw) != len(in) {
		t.Fatalf("want the one record, got %v", got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("reading a %d-byte record allocated %d bytes", len(in), alloc)
	}
}

// More object keys in one notification than the limit: refused whole, saying
// which limit, with ErrTooLarge for the daemon's metrics. (ParseNotification
// has no name for its message; the daemon puts the message id in front.)
func TestLimitNotificationObjects(t *testing.T) {
	keys := func(n int) []string {
		ks := make([]string, n)
		for i := range ks {
			ks[i] = fmt.Sprintf("AWSLogs/1/CloudTrail/us-east-1/%d.json.gz", i)
		}
		return ks
	}
	cloudTrail := func(n int) string {
		b, _ := json.Marshal(map[string]any{"s3Bucket": "trail-bucket", "s3ObjectKey": keys(n)})
		return string(b)
	}
	s3Events := func(n int) string {
		recs := make([]string, n)
		for i, k := range keys(n) {
			recs[i] = strings.TrimSuffix(strings.TrimPrefix(s3Event("trail-bucket", k, "ObjectCreated:Put"), `{"Records":[`), `]}`)
		}
		return `{"Records":[` + strings.Join(recs, ",") + `]}`
	}
	tests := []struct {
		name  string
		body  string
		limit int
		want  string // "" when accepted
		n     int    // objects when accepted
	}{
		{"default limit, 1000 keys", cloudTrail(1000), 0, "", 1000},
		{"default limit, 1001 keys", cloudTrail(1001), 0, "notification: notification names 1001 objects, more than the limit of 1000", 0},
		{"default limit, 1001 keys through SNS", sns(cloudTrail(1001)), 0, "notification: SNS Message: notification names 1001 objects, more than the limit of 1000", 0},
		{"default limit, 1000 S3 events", s3Events(1000), 0, "", 1000},
		{"default limit, 1001 S3 events", s3Events(1001), 0, "notification: notification names 1001 objects, more than the limit of 1000", 0},
		{"limit 5, 5 keys", cloudTrail(5), 5, "", 5},
		{"limit 5, 6 keys", cloudTrail(6), 5, "more than the limit of 5", 0},
		{"limit 5, 6 S3 events", s3Events(6), 5, "more than the limit of 5", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := cloudtrail.ParseNotification([]byte(tc.body), cloudtrail.NotificationLimits{MaxObjects: tc.limit})
			if tc.want == "" {
				if err != nil || len(n.Objects) != tc.n {
					t.Fatalf("want %d objects accepted, got %v", tc.n, err)
				}
				return
			}
			var ne *cloudtrail.NotificationError
			if !errors.As(err, &ne) || !errors.Is(err, cloudtrail.ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %T %v; want a *NotificationError wrapping ErrTooLarge saying %q", err, err, tc.want)
			}
		})
	}
}
