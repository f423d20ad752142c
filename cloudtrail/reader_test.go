package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

const (
	recA = `{"eventID":"a","eventName":"CreateServer","eventSource":"opsworks-cm.amazonaws.com"}`
	recB = `{"eventID":"b","eventName":"ListServers","requestParameters":{"x":[1,{"y":"}]\"{"}]}}`
)

// readAll collects every record id and every error from one input.
func readAll(t *testing.T, in []byte, limits cloudtrail.Limits) (ids []string, errs []error) {
	t.Helper()
	r, err := cloudtrail.NewReader(bytes.NewReader(in), "in.json", limits)
	if err != nil {
		return nil, []error{err}
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return ids, errs
		}
		if err != nil {
			errs = append(errs, err)
			var de *cloudtrail.DecodeError
			if !errors.As(err, &de) || de.Fatal {
				return ids, errs
			}
			continue
		}
		var ev struct {
			EventID string `json:"eventID"`
		}
		if err := json.Unmarshal(rec.Raw, &ev); err != nil {
			t.Fatalf("record %d is not JSON: %v: %s", rec.Index, err, rec.Raw)
		}
		ids = append(ids, ev.EventID)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestReaderShapes(t *testing.T) {
	eventBridge := `{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.opsworks-cm","detail":` + recA + `}`
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"delivery file", `{"Records":[` + recA + `,` + recB + `]}`, "a,b"},
		{"delivery file, Records not first", `{"x":{"Records":1},"Records":[` + recA + `],"y":[1]}`, "a"},
		{"empty delivery file", `{"Records":[]}`, ""},
		{"array", "[\n" + recA + ",\n" + recB + "\n]", "a,b"},
		{"ndjson", recA + "\n" + recB + "\n", "a,b"},
		{"ndjson of delivery files", `{"Records":[` + recA + "]}\n" + `{"Records":[` + recB + "]}\n", "a,b"},
		{"single record", "  " + recA + "\n", "a"},
		{"eventbridge event", eventBridge, "a"},
		{"eventbridge events as ndjson", eventBridge + "\n" + eventBridge, "a,a"},
		{"other detail-type is a record", `{"eventID":"c","detail-type":"Scheduled Event","detail":{}}`, "c"},
		{"empty input", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, compress := range []bool{false, true} {
				in := []byte(tc.in)
				if compress {
					in = gz(in)
				}
				ids, errs := readAll(t, in, cloudtrail.Limits{})
				if len(errs) > 0 {
					t.Fatalf("gzip=%v: unexpected errors: %v", compress, errs)
				}
				if got := strings.Join(ids, ","); got != tc.want {
					t.Fatalf("gzip=%v: got %q, want %q", compress, got, tc.want)
				}
			}
		})
	}
}

func TestReaderPositions(t *testing.T) {
	in := "{\"Records\":[\n  " + recA + ",\n  " + recB + "\n]}"
	r, err := cloudtrail.NewReader(strings.NewReader(in), "f", cloudtrail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := r.Next()
	if rec.Line != 2 || rec.Col != 3 || rec.Offset != 15 || rec.Index != 0 || rec.Source != "f" {
		t.Fatalf("first record at %+v", rec)
	}
	rec, _ = r.Next()
	if rec.Line != 3 || rec.Index != 1 {
		t.Fatalf("second record at line %d index %d", rec.Line, rec.Index)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

// The Puppet sample in the AWS documentation has a trailing comma: the error must
// name the file, the line and column of the problem.
func TestReaderPublishedBadSample(t *testing.T) {
	f, err := os.Open("testdata/puppet-createserver-trailing-comma.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := cloudtrail.NewReader(f, "puppet.json", cloudtrail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	var de *cloudtrail.DecodeError
	if !errors.As(err, &de) || de.Fatal {
		t.Fatalf("want a record error, got %v", err)
	}
	if de.Line != 56 || de.Col != 13 {
		t.Errorf("error at %d:%d, want 56:13: %v", de.Line, de.Col, err)
	}
	if !strings.HasPrefix(err.Error(), "puppet.json:56:13: record 0: invalid character ']'") {
		t.Errorf("message: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want EOF after the bad record, got %v", err)
	}
}

func TestReaderBadRecordsDoNotHideGoodOnes(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string
		errs     int
		fatal    bool
		errMatch string
	}{
		{"trailing comma in one record", `{"Records":[` + recA + `,{"eventID":"x","a":[1,]},` + recB + `]}`, "a,b", 1, false, "in.json:1:"},
		{"non-object element", `{"Records":[` + recA + `,42,"s",` + recB + `]}`, "a,b", 2, false, "a record must be a JSON object"},
		{"bad ndjson line", recA + "\nnot json at all\n" + recB + "\n", "a,b", 1, false, "in.json:2:1: expected a JSON object or array"},
		{"invalid record in ndjson", recA + "\n{\"eventID\":\"x\" \"y\":1}\n" + recB, "a,b", 1, false, "in.json:2:"},
		{"truncated", `{"Records":[` + recA + `,{"eventID":"b"`, "a", 1, true, "unexpected end of input"},
		{"missing comma between records", `{"Records":[` + recA + recB + `]}`, "a", 1, true, "expected ',' or ']'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, errs := readAll(t, []byte(tc.in), cloudtrail.Limits{})
			if got := strings.Join(ids, ","); got != tc.want {
				t.Errorf("records %q, want %q", got, tc.want)
			}
			if len(errs) != tc.errs {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, tc.errs)
			}
			var de *cloudtrail.DecodeError
			if !errors.As(errs[0], &de) || de.Fatal != tc.fatal {
				t.Errorf("error %v: fatal=%v, want %v", errs[0], de != nil && de.Fatal, tc.fatal)
			}
			if !strings.Contains(errs[0].Error(), tc.errMatch) {
				t.Errorf("error %q does not contain %q", errs[0], tc.errMatch)
			}
		})
	}
}

func TestReaderLimits(t *testing.T) {
	big := `{"eventID":"big","pad":"` + strings.Repeat("x", 2000) + `"}`
	deep := `{"eventID":"deep","d":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`
	in := `{"Records":[` + recA + "," + big + "," + deep + "," + recB + `]}`
	ids, errs := readAll(t, []byte(in), cloudtrail.Limits{MaxRecordBytes: 1000, MaxDepth: 10})
	if got := strings.Join(ids, ","); got != "a,b" {
		t.Fatalf("records %q, want a,b", got)
	}
	if len(errs) != 2 || !errors.Is(errs[0], cloudtrail.ErrTooLarge) || !strings.Contains(errs[1].Error(), "nested 21 deep") {
		t.Fatalf("errors: %v", errs)
	}

	// A gzip bomb: a small file that inflates past the limit stops with a clear error.
	bomb := gz([]byte(`{"Records":[` + recA + "," + `{"pad":"` + strings.Repeat("0", 1<<20) + `"}]}`))
	ids, errs = readAll(t, bomb, cloudtrail.Limits{MaxBytes: 64 << 10})
	if len(ids) != 1 || len(errs) != 1 || !errors.Is(errs[0], cloudtrail.ErrTooLarge) {
		t.Fatalf("bomb: ids %v errors %v", ids, errs)
	}
}

func TestReaderTruncatedGzip(t *testing.T) {
	full := gz([]byte(`{"Records":[` + recA + `,` + recB + `]}`))
	ids, errs := readAll(t, full[:len(full)-12], cloudtrail.Limits{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "in.json") {
		t.Fatalf("ids %v errors %v", ids, errs)
	}
	var de *cloudtrail.DecodeError
	if !errors.As(errs[0], &de) || !de.Fatal {
		t.Fatalf("want a fatal decode error, got %v", errs[0])
	}
}

// A large log is streamed: records come out before the input ends.
func TestReaderStreams(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"Records":[` + recA + `,`))
		// Block until the reader has taken the first record, then finish.
	}()
	r, err := cloudtrail.NewReader(pr, "pipe", cloudtrail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil || !bytes.Contains(rec.Raw, []byte(`"a"`)) {
		t.Fatalf("first record before the end of input: %v %s", err, rec.Raw)
	}
	go func() { pw.Write([]byte(recB + `]}`)); pw.Close() }()
	if rec, err = r.Next(); err != nil || !bytes.Contains(rec.Raw, []byte(`"b"`)) {
		t.Fatalf("second record: %v", err)
	}
}

// An Unchecked reader with Check on each record reports what a checking reader
// reports, in the same places.
func TestUncheckedThenCheck(t *testing.T) {
	in := `{"Records":[` + recA + `,{"eventID":"x","a":[1,]},42,` + recB + `,{"detail-type":"AWS API Call via CloudTrail","detail":` + recA + `}]}`
	read := func(unchecked bool) (out []string) {
		r, _ := cloudtrail.NewReader(strings.NewReader(in), "f", cloudtrail.Limits{})
		if unchecked {
			r.Unchecked()
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return out
			}
			if err == nil && unchecked {
				err = cloudtrail.Check(&rec)
			}
			if err != nil {
				out = append(out, "error "+err.Error())
				continue
			}
			out = append(out, string(rec.Raw))
		}
	}
	checked, unchecked := read(false), read(true)
	if strings.Join(checked, "\n") != strings.Join(unchecked, "\n") {
		t.Fatalf("checked:\n%s\nunchecked:\n%s", strings.Join(checked, "\n"), strings.Join(unchecked, "\n"))
	}
	if len(checked) != 5 || !strings.HasPrefix(checked[1], "error f:1:") {
		t.Fatalf("unexpected output: %q", checked)
	}
}
