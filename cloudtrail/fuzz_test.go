package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
)

// fuzzTimeout bounds one input: the reader is linear in its input, so an input
// of at most a few MiB that takes longer than this is stuck in a loop.
const fuzzTimeout = 10 * time.Second

// readerSeeds are the shapes reader_test.go exercises, good and bad.
func readerSeeds() []string {
	eventBridge := `{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.opsworks-cm","detail":` + recA + `}`
	return []string{
		// TestReaderShapes
		`{"Records":[` + recA + `,` + recB + `]}`,
		`{"x":{"Records":1},"Records":[` + recA + `],"y":[1]}`,
		`{"Records":[]}`,
		"[\n" + recA + ",\n" + recB + "\n]",
		recA + "\n" + recB + "\n",
		`{"Records":[` + recA + "]}\n" + `{"Records":[` + recB + "]}\n",
		"  " + recA + "\n",
		eventBridge,
		eventBridge + "\n" + eventBridge,
		`{"eventID":"c","detail-type":"Scheduled Event","detail":{}}`,
		"",
		// TestReaderPositions
		"{\"Records\":[\n  " + recA + ",\n  " + recB + "\n]}",
		// TestReaderBadRecordsDoNotHideGoodOnes
		`{"Records":[` + recA + `,{"eventID":"x","a":[1,]},` + recB + `]}`,
		`{"Records":[` + recA + `,42,"s",` + recB + `]}`,
		recA + "\nnot json at all\n" + recB + "\n",
		recA + "\n{\"eventID\":\"x\" \"y\":1}\n" + recB,
		`{"Records":[` + recA + `,{"eventID":"b"`,
		`{"Records":[` + recA + recB + `]}`,
		// TestReaderLimits
		`{"Records":[` + recA + "," + `{"eventID":"big","pad":"` + strings.Repeat("x", 2000) + `"}` + "," +
			`{"eventID":"deep","d":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}` + "," + recB + `]}`,
		// Corners of the top-level object walk.
		`{"Records":[` + recA + `],"after":{"a":[1,2]},"z":"}"}`,
		`{"Records" : [ ` + recA + ` ] }`,
		`{"a" "b"}`,
		`{"a":1 "b":2}`,
		`{1:2}`,
		`{"detail-type":"AWS API Call via CloudTrail","detail":[1]}`,
		`{"detail-type":"AWS API Call via CloudTrail","detail":"x"}`,
		"\xef\xbb\xbf" + recA,
		`[[],{},[{}]]`,
		`[` + recA + `,]`,
		`{"Records":{"a":1}}`,
		"{\"a\":\"line\\nnext\",\n\"b\":[\n1,\n2,]}",
	}
}

// readerSeedFiles returns the published samples small enough to be worth
// mutating (up to 16 KiB): the bad one in testdata and most of examples/logs.
func readerSeedFiles(f *testing.F) []string {
	files := []string{"testdata/puppet-createserver-trailing-comma.json"}
	examples, err := filepath.Glob("../examples/logs/*/*.json")
	if err != nil || len(examples) == 0 {
		f.Fatalf("no sample logs in ../examples/logs: %v", err)
	}
	for _, name := range examples {
		if fi, err := os.Stat(name); err == nil && fi.Size() <= 16<<10 {
			files = append(files, name)
		}
	}
	return files
}

// FuzzReader feeds arbitrary bytes, optionally gzip-compressed, to the reader
// under small limits chosen by the fuzzer. The reader must not panic, must end,
// and must say only true things: every record a JSON object within the limits,
// every error a *DecodeError pointing inside the input, nothing after a fatal
// error.
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds() {
		f.Add([]byte(s), false, uint16(0), uint8(0), uint32(0))
		f.Add([]byte(s), true, uint16(0), uint8(0), uint32(0))
		f.Add([]byte(s), false, uint16(100), uint8(3), uint32(200))
	}
	for _, name := range readerSeedFiles(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, uint16(0), uint8(0), uint32(0))
		f.Add(b, true, uint16(1000), uint8(5), uint32(0))
	}
	// A truncated gzip file and a tiny bomb.
	full := gz([]byte(`{"Records":[` + recA + `,` + recB + `]}`))
	f.Add(full[:len(full)-12], false, uint16(0), uint8(0), uint32(0))
	f.Add(gz(bytes.Repeat([]byte(" "), 1<<16)), false, uint16(0), uint8(0), uint32(1000))

	f.Fuzz(func(t *testing.T, data []byte, compress bool, maxRecord uint16, maxDepth uint8, maxBytes uint32) {
		if compress {
			data = gz(data)
		}
		// Zero record and depth limits take the defaults; the input limit is
		// always small so that a bomb costs little (zero: 4 MiB).
		limits := cloudtrail.Limits{
			MaxRecordBytes: int(maxRecord),
			MaxDepth:       int(maxDepth),
			MaxBytes:       int64(maxBytes % (4 << 20)),
		}
		if limits.MaxBytes == 0 {
			limits.MaxBytes = 4 << 20
		}
		done := make(chan string, 1)
		go func() {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			problem, size := checkReader(data, limits)
			runtime.ReadMemStats(&after)
			// Reading is linear: a few buffers, then a bounded amount per byte
			// (each byte can make at most one error). More than that is
			// quadratic work hiding somewhere.
			if alloc := after.TotalAlloc - before.TotalAlloc; problem == "" && alloc > 16<<20+(4<<10)*uint64(size) {
				problem = fmt.Sprintf("allocated %d bytes reading %d", alloc, size)
			}
			done <- problem
		}()
		select {
		case problem := <-done:
			if problem != "" {
				t.Fatalf("limits %+v, input %q:\n%s", limits, trim(data), problem)
			}
		case <-time.After(fuzzTimeout):
			// The goroutine is stuck; its stack says where.
			buf := make([]byte, 1<<20)
			t.Fatalf("limits %+v, input %q: the reader did not finish in %v (a loop?)\n%s",
				limits, trim(data), fuzzTimeout, buf[:runtime.Stack(buf, true)])
		}
	})
}

func trim(b []byte) []byte {
	if len(b) > 512 {
		return append(b[:512:512], "…"...)
	}
	return b
}

// checkReader reads data to the end and returns what is wrong, or "", and how
// many bytes of (decompressed) input the reader could see.
func checkReader(data []byte, limits cloudtrail.Limits) (problem string, size int64) {
	defer func() {
		if p := recover(); p != nil {
			problem = fmt.Sprintf("panic: %v", p)
		}
	}()
	plain, size := decompressed(data, limits.MaxBytes)
	problem, seen := checkRecords(data, plain, size, limits)
	if problem != "" {
		return problem, size
	}
	// Where the input's reads happen to end must not change what is read.
	if oneByte := transcript(iotest.OneByteReader(bytes.NewReader(data)), limits, len(seen)+1); !slices.Equal(oneByte, seen) {
		return fmt.Sprintf("read one byte at a time, the input gives\n%q\ninstead of\n%q", oneByte, seen), size
	}
	return "", size
}

// transcript reads in to the end (or for at most n results) and describes
// each record and error.
func transcript(in io.Reader, limits cloudtrail.Limits, n int) []string {
	var out []string
	r, err := cloudtrail.NewReader(in, "fuzz.json", limits)
	if err != nil {
		return []string{err.Error()}
	}
	defer r.Close()
	for range n {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		out = append(out, describeResult(rec, err))
	}
	return out
}

func describeResult(rec cloudtrail.Record, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d@%d:%d:%d %s", rec.Index, rec.Offset, rec.Line, rec.Col, rec.Raw)
}

// checkRecords is checkReader once the input is known.
func checkRecords(data, plain []byte, size int64, limits cloudtrail.Limits) (problem string, seen []string) {
	const source = "fuzz.json"
	maxRecord, maxDepth := limits.MaxRecordBytes, limits.MaxDepth
	if maxRecord <= 0 {
		maxRecord = cloudtrail.DefaultMaxRecordBytes
	}
	if maxDepth <= 0 {
		maxDepth = cloudtrail.DefaultMaxDepth
	}

	r, err := cloudtrail.NewReader(bytes.NewReader(data), source, limits)
	if err != nil {
		var de *cloudtrail.DecodeError
		if !errors.As(err, &de) || !de.Fatal || de.Line < 1 || de.Col < 1 || de.Source != source {
			return fmt.Sprintf("NewReader: want a fatal *DecodeError at a position, got %T %#v", err, err), nil
		}
		return "", []string{err.Error()}
	}
	defer r.Close()

	// Every call either returns a record or an error, or ends the input; each
	// record and each error accounts for at least one byte of input, except a
	// bad element that is not even a scalar, which then needs a separator.
	maxCalls := 2*size + 4
	var records, errs []string
	lastIndex := -1
	for calls := int64(0); ; calls++ {
		if calls > maxCalls {
			return fmt.Sprintf("more than %d results from %d bytes of input", maxCalls, size), nil
		}
		rec, err := r.Next()
		if err == io.EOF {
			// The end is sticky.
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				return fmt.Sprintf("Next after io.EOF returned %v", err), nil
			}
			break
		}
		if err != nil {
			var de *cloudtrail.DecodeError
			if !errors.As(err, &de) {
				return fmt.Sprintf("error %v is a %T, not a *cloudtrail.DecodeError", err, err), nil
			}
			msg := err.Error()
			switch {
			case de.Err == nil:
				return fmt.Sprintf("DecodeError without a cause: %#v", de), nil
			case de.Source != source || !strings.HasPrefix(msg, source+":"):
				return fmt.Sprintf("error %q does not name the source", msg), nil
			case de.Line < 1 || de.Col < 1:
				return fmt.Sprintf("error %q at line %d col %d", msg, de.Line, de.Col), nil
			case de.Offset < 0 || de.Offset > size:
				return fmt.Sprintf("error %q at byte %d of %d", msg, de.Offset, size), nil
			case de.Index >= 0 && de.Index <= lastIndex:
				return fmt.Sprintf("error %q for record %d after record %d", msg, de.Index, lastIndex), nil
			case errors.Is(err, cloudtrail.ErrTooLarge) && !strings.Contains(msg, "larger than"):
				return fmt.Sprintf("size error %q does not say which limit", msg), nil
			}
			if de.Index >= 0 {
				lastIndex = de.Index
			}
			errs = append(errs, msg)
			seen = append(seen, describeResult(rec, err))
			if de.Fatal {
				for range 2 {
					if rec, err := r.Next(); err != io.EOF {
						return fmt.Sprintf("after fatal error %q Next returned %v, %q; want io.EOF", msg, err, rec.Raw), nil
					}
				}
				break
			}
			continue
		}
		raw := rec.Raw
		switch {
		case len(raw) == 0 || raw[0] != '{' || !json.Valid(raw):
			return fmt.Sprintf("record %d is not a JSON object: %q", rec.Index, raw), nil
		case len(raw) > maxRecord:
			return fmt.Sprintf("record %d is %d bytes, over the limit of %d", rec.Index, len(raw), maxRecord), nil
		case depthOf(raw) > maxDepth:
			return fmt.Sprintf("record %d is nested %d deep, over the limit of %d", rec.Index, depthOf(raw), maxDepth), nil
		case rec.Source != source:
			return fmt.Sprintf("record %d from source %q", rec.Index, rec.Source), nil
		case rec.Line < 1 || rec.Col < 1 || rec.Offset < 0 || rec.Offset >= size:
			return fmt.Sprintf("record %d at line %d col %d byte %d of %d", rec.Index, rec.Line, rec.Col, rec.Offset, size), nil
		case rec.Index <= lastIndex:
			return fmt.Sprintf("record %d after record %d", rec.Index, lastIndex), nil
		}
		lastIndex = rec.Index
		records = append(records, string(raw))
		seen = append(seen, describeResult(rec, nil))
	}

	// When the input is a plain JSON array of records, or a delivery file, within
	// the limits, the reader must return exactly its records.
	if plain == nil || int64(len(plain)) >= limits.MaxBytes || !json.Valid(plain) {
		return "", seen
	}
	elems, ok := recordsOf(plain, maxRecord)
	if !ok {
		return "", seen
	}
	for _, e := range elems {
		if len(e) == 0 || e[0] != '{' || len(e) > maxRecord || depthOf(e) > maxDepth || bytes.Contains(e, []byte(`"detail-type"`)) {
			return "", seen
		}
	}
	if len(errs) > 0 || len(records) != len(elems) {
		return fmt.Sprintf("valid input of %d records: read %d records and errors %q", len(elems), len(records), errs), nil
	}
	for i, e := range elems {
		if records[i] != string(e) {
			return fmt.Sprintf("record %d is %q, want %q", i, records[i], e), nil
		}
	}
	return "", seen
}

// recordsOf returns the records of the valid JSON document plain when it is an
// array, or an object with one "Records" array (spelt so, and starting within
// the first maxRecord bytes: the reader holds the object up to there).
func recordsOf(plain []byte, maxRecord int) (elems []json.RawMessage, ok bool) {
	trimmed := bytes.TrimLeft(plain, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("[")) {
		return elems, json.Unmarshal(plain, &elems) == nil
	}
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.Token() // {
	found := 0
	var records json.RawMessage
	for dec.More() {
		start := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			return nil, false
		}
		key := bytes.TrimLeft(plain[start:dec.InputOffset()], " \t\r\n,")
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if string(key) == `"Records"` {
			found++
			records = v
			if dec.InputOffset()-int64(len(v)) >= int64(maxRecord) {
				return nil, false
			}
		}
	}
	if found != 1 || len(records) == 0 || records[0] != '[' {
		return nil, false
	}
	return elems, json.Unmarshal(records, &elems) == nil
}

// decompressed returns how many bytes of input the reader can see at most and,
// when they decompress without error, those bytes.
func decompressed(data []byte, maxBytes int64) (plain []byte, size int64) {
	var in io.Reader = bytes.NewReader(data)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, 0
		}
		in = zr
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(in, maxBytes))
	if err != nil {
		return nil, n
	}
	return buf.Bytes(), n
}

// depthOf returns how deeply the valid JSON value b nests.
func depthOf(b []byte) int {
	depth, maxDepth := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return maxDepth
}

// notificationSeeds are the shapes notification_test.go exercises, good and bad.
func notificationSeeds() []string {
	const ctKeys = `{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/a.json.gz","AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/b.json.gz"]}`
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("k/%d.json.gz", i)
	}
	manyKeys, _ := json.Marshal(map[string]any{"s3Bucket": "trail-bucket", "s3ObjectKey": many})
	return []string{
		// TestParseNotification
		sns(ctKeys),
		`{"s3Bucket":"trail-bucket","s3ObjectKey":["k/one.json.gz"]}`,
		s3Event("trail-bucket", "AWSLogs/x/my+file%3D1.json.gz", "ObjectCreated:Put"),
		sns(s3Event("trail-bucket", "a/b.json.gz", "ObjectCreated:CompleteMultipartUpload")),
		s3Event("trail-bucket", "a/b.json.gz", "ObjectRemoved:Delete"),
		`{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz","AWSLogs/1/CloudTrail/us-east-1/l.json.gz"]}`,
		s3Event("trail-bucket", "AWSLogs/1/CloudTrail-Insight/us-east-1/i.json.gz", "ObjectCreated:Put"),
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T10:00:00.000Z","Bucket":"trail-bucket"}`,
		sns(`{"Service":"Amazon S3","Event":"s3:TestEvent"}`),
		`{"Type":"SubscriptionConfirmation","Message":"You have chosen to subscribe","SubscribeURL":"https://sns.example/"}`,
		`{"Type":"UnsubscribeConfirmation","Message":"bye"}`,
		`{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.opsworks-cm","detail":{"eventID":"e1","eventName":"CreateServer"}}`,
		`{"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"trail-bucket"},"object":{"key":"a/b c.json.gz"}}}`,
		// TestParseNotificationRefuses
		`hello`,
		`{"foo":"bar"}`,
		sns(`{"s3Bucket":`),
		`{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/../../etc/passwd"]}`,
		`{"s3Bucket":"trail-bucket","s3ObjectKey":["/etc/passwd"]}`,
		`{"s3Bucket":"trail-bucket","s3ObjectKey":["https://evil.example/x"]}`,
		`{"s3Bucket":"Evil_Bucket/../x","s3ObjectKey":["k"]}`,
		s3Event("trail-bucket", "a/%2E%2E/b", "ObjectCreated:Put"),
		strings.Replace(s3Event("trail-bucket", "a", "ObjectCreated:Put"), "aws:s3", "aws:sqs", 1),
		string(manyKeys),
		`{"detail-type":"AWS API Call via CloudTrail","detail":null}`,
		// Nesting and corners.
		sns(sns(ctKeys)),
		sns(`{"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"trail-bucket"},"object":{"key":"a/./b"}}}`),
		`{"s3Bucket":"trail-bucket","s3ObjectKey":[]}`,
		`{"s3Bucket":"a.b","s3ObjectKey":["k\u0000"]}`,
		s3Event("trail-bucket", "a/%00/b", "ObjectCreated:Put"),
		`{"Type":"Notification","Message":null,"s3Bucket":"trail-bucket","s3ObjectKey":["x"]}`,
	}
}

// FuzzParseNotification feeds arbitrary message bodies to ParseNotification.
// It must not panic; what it accepts must name only objects an honest
// notification could name, no more of them than the limit; what it refuses it
// refuses with a *NotificationError.
func FuzzParseNotification(f *testing.F) {
	for _, s := range notificationSeeds() {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, body []byte, maxObjects uint8) {
		limit := int(maxObjects % 8) // 0: the default
		n, err := cloudtrail.ParseNotification(body, cloudtrail.NotificationLimits{MaxObjects: limit})
		if limit == 0 {
			limit = cloudtrail.DefaultMaxObjects
		}
		if err != nil {
			var ne *cloudtrail.NotificationError
			if !errors.As(err, &ne) || ne.Err == nil {
				t.Fatalf("%q: error %v is a %T, want a *cloudtrail.NotificationError", body, err, err)
			}
			if n != nil {
				t.Fatalf("%q: a notification %+v with the error %v", body, n, err)
			}
			if errors.Is(err, cloudtrail.ErrTooLarge) && !strings.Contains(err.Error(), fmt.Sprintf("limit of %d", limit)) {
				t.Fatalf("%q: error %q does not say which limit", body, err)
			}
			return
		}
		if n == nil {
			t.Fatalf("%q: neither a notification nor an error", body)
		}
		if len(n.Objects) > limit || len(n.Objects)+len(n.Skipped) > limit {
			t.Fatalf("%q: %d objects and %d skipped, over the limit of %d", body, len(n.Objects), len(n.Skipped), limit)
		}
		for _, o := range append(n.Objects[:len(n.Objects):len(n.Objects)], n.Skipped...) {
			if why := forged(o); why != "" {
				t.Fatalf("%q: accepted %q, whose %s", body, o, why)
			}
		}
		for i, r := range n.Records {
			if len(r) == 0 || r[0] != '{' || !json.Valid(r) {
				t.Fatalf("%q: record %d is not a JSON object: %q", body, i, r)
			}
		}
		switch n.Kind {
		case "ignored":
			if n.Ignored == "" || len(n.Objects)+len(n.Skipped)+len(n.Records) > 0 {
				t.Fatalf("%q: ignored notification %+v", body, n)
			}
		case "cloudtrail", "s3-event", "eventbridge-s3", "eventbridge-cloudtrail":
			if n.Ignored != "" {
				t.Fatalf("%q: %s notification also ignored: %+v", body, n.Kind, n)
			}
		default:
			t.Fatalf("%q: unknown kind %q", body, n.Kind)
		}
	})
}

// forged says what about o no honest notification would name, or "". It is
// written from S3's rules, apart from the package's own check.
func forged(o cloudtrail.ObjectRef) string {
	b, k := o.Bucket, o.Key
	isAlnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if len(b) < 3 || len(b) > 63 || !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return "bucket name has the wrong length or ends"
	}
	for i := range len(b) {
		if c := b[i]; !isAlnum(c) && c != '.' && c != '-' {
			return fmt.Sprintf("bucket name has %q", c)
		}
	}
	if strings.Contains(b, "..") {
		return "bucket name has two adjacent periods"
	}
	if parts := strings.Split(b, "."); len(parts) == 4 && !slices.ContainsFunc(parts, func(p string) bool {
		return p == "" || strings.Trim(p, "0123456789") != ""
	}) {
		return "bucket name is formatted as an IP address"
	}
	switch {
	case k == "":
		return "key is empty"
	case strings.HasPrefix(k, "/"):
		return "key is absolute"
	case strings.Contains(k, "://"):
		return "key is a URL"
	case strings.ContainsAny(k, "\x00\r\n"):
		return "key has control characters"
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "." || seg == ".." {
			return fmt.Sprintf("key has a %q segment", seg)
		}
	}
	if filepath.IsAbs(k) {
		return "key is an absolute path"
	}
	return ""
}
