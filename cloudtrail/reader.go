// Package cloudtrail is trailguard's model of CloudTrail data: log files in every
// shape CloudTrail (or a person) writes them, read as a stream of records, and the
// notifications (SNS, S3 events, EventBridge) that announce new log files.
package cloudtrail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	// klauspost's gzip inflates about 1.6× faster than compress/gzip (bench
	// figures in the README), and the inflating is most of a log's cost
	// before any rule looks at it. Same API, same errors for our purposes.
	"github.com/klauspost/compress/gzip"
)

// Record is one CloudTrail event as read: its JSON bytes, untouched, and where
// they were found so that anything said about it can point back to the evidence.
type Record struct {
	Raw    []byte // one JSON object; the caller owns it
	Source string // file name, s3://bucket/key, or "-" for stdin
	Index  int    // 0-based position of the record within Source
	Offset int64  // byte offset in the (decompressed) input where the record starts
	Line   int    // 1-based line where the record starts
	Col    int    // 1-based column where the record starts
}

// Limits bound what one input may cost. Zero fields take the defaults.
type Limits struct {
	// MaxRecordBytes refuses a record larger than this (default 1 MiB; CloudTrail's
	// own records stay far below it).
	MaxRecordBytes int
	// MaxDepth refuses JSON nested deeper than this (default 64).
	MaxDepth int
	// MaxBytes stops reading an input whose decompressed size passes this
	// (default 8 GiB), so a gzip bomb cannot keep a worker busy forever.
	MaxBytes int64
}

// Default limits.
const (
	DefaultMaxRecordBytes       = 1 << 20
	DefaultMaxDepth             = 64
	DefaultMaxBytes       int64 = 8 << 30
)

func (l Limits) withDefaults() Limits {
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Reader streams the records of one log file. It accepts, compressed with gzip or
// not (found by its magic bytes, not the name):
//   - a CloudTrail delivery file {"Records":[…]},
//   - a JSON array of records,
//   - newline-delimited (or simply concatenated) records or delivery files,
//   - a single record,
//   - EventBridge events ("detail-type": "… via CloudTrail"), whose detail is the record.
//
// Only one record is held in memory at a time.
type Reader struct {
	source string
	limits Limits
	s      *scanner
	br     *bufio.Reader
	gz     *gzip.Reader
	lim    *limitReader

	index     int
	inArray   bool // between the elements of a records array
	inObject  bool // that array is the "Records" of a top-level object
	unchecked bool // leave JSON validation to the caller (Check)
	needComma bool
	done      bool
}

// NewReader starts reading src, which is named source in errors and records.
// Close it when done: it returns its buffers for the next log to use.
func NewReader(src io.Reader, source string, limits Limits) (*Reader, error) {
	limits = limits.withDefaults()
	br := bufioPool.Get().(*bufio.Reader)
	br.Reset(src)
	rd := &Reader{source: source, limits: limits, br: br}
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := newGzip(br)
		if err != nil {
			rd.Close()
			return nil, &DecodeError{Source: source, Index: -1, Line: 1, Col: 1, Fatal: true, Err: fmt.Errorf("gzip: %w", err)}
		}
		rd.gz = gz
		in = gz
	}
	rd.lim = &limitReader{r: in, left: limits.MaxBytes}
	rd.s = newScanner(rd.lim, limits.MaxRecordBytes)
	return rd, nil
}

// A daemon reads thousands of small logs a minute, and each one's buffers
// (two of 64 KiB, and the decompressor's window and tables, about 40 KiB) were
// most of what it allocated; reused, they no longer drive the garbage
// collector.
var (
	bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	gzipPool  sync.Pool // *gzip.Reader
)

var errReaderClosed = errors.New("cloudtrail: Reader used after Close")

func newGzip(r io.Reader) (*gzip.Reader, error) {
	if gz, ok := gzipPool.Get().(*gzip.Reader); ok {
		if err := gz.Reset(r); err != nil {
			gzipPool.Put(gz)
			return nil, err
		}
		return gz, nil
	}
	return gzip.NewReader(r)
}

func (r *Reader) Close() error {
	var err error
	if r.gz != nil {
		err = r.gz.Close()
		gzipPool.Put(r.gz)
		r.gz = nil
	}
	if r.br != nil {
		r.br.Reset(nil)
		bufioPool.Put(r.br)
		r.br = nil
	}
	if r.s != nil {
		r.s.release()
		r.s = nil
	}
	return err
}

// Next returns the next record, or io.EOF after the last. A *DecodeError with
// Fatal false concerns one record only: report it and call Next again. Any other
// error ends the input.
func (r *Reader) Next() (Record, error) {
	if r.s == nil {
		return Record{}, errReaderClosed
	}
	if r.done {
		return Record{}, io.EOF
	}
	rec, err := r.next()
	if err != nil && !errors.Is(err, io.EOF) {
		var de *DecodeError
		if !errors.As(err, &de) || de.Fatal {
			r.done = true
		}
	}
	if errors.Is(err, io.EOF) {
		r.done = true
	}
	return rec, err
}

func (r *Reader) next() (Record, error) {
	s := r.s
	for {
		if r.inArray {
			c, ok := s.peek()
			if !ok {
				return Record{}, r.fatal(s.eofErr())
			}
			switch {
			case c == ']':
				s.skip()
				r.inArray = false
				if r.inObject {
					r.inObject = false
					if err := r.finishObject(); err != nil {
						return Record{}, err
					}
				}
				continue
			case c == ',' && r.needComma:
				s.skip()
				r.needComma = false
				continue
			case r.needComma:
				return Record{}, r.fatal(fmt.Errorf("expected ',' or ']' between records, found %q", c))
			}
			r.needComma = true
			return r.element()
		}

		c, ok := s.peek()
		if !ok {
			if s.err != nil && !errors.Is(s.err, io.EOF) {
				return Record{}, r.fatal(s.err)
			}
			return Record{}, io.EOF
		}
		switch c {
		case '[':
			s.skip()
			r.inArray, r.inObject, r.needComma = true, false, false
		case '{':
			rec, isRecords, err := r.topObject()
			if err != nil || !isRecords {
				return rec, err
			}
		default:
			// Garbage between values: report it, then resynchronise on the next line
			// so that newline-delimited input goes on after one bad line.
			e := r.errHere(-1, fmt.Errorf("expected a JSON object or array, found %q", c))
			if !s.skipLine() {
				e.Fatal = true
				e.Err = fmt.Errorf("%w, and no line break follows within %d bytes: no record can follow", e.Err, r.limits.MaxRecordBytes)
			}
			return Record{}, e
		}
	}
}

// element reads one element of a records array.
func (r *Reader) element() (Record, error) {
	s := r.s
	rec := r.startRecord()
	s.startCapture(r.limits.MaxRecordBytes)
	depth, err := s.value()
	raw, within := s.stopCapture()
	if err != nil {
		return Record{}, r.fatalAt(rec, err)
	}
	return r.finishRecord(rec, raw, within, depth)
}

// topObject reads a top-level object: either a delivery file, whose "Records"
// array it enters (isRecords), or a single record or EventBridge event.
func (r *Reader) topObject() (rec Record, isRecords bool, err error) {
	s := r.s
	rec = r.startRecord()
	s.startCapture(r.limits.MaxRecordBytes)
	s.skip() // '{'
	maxDepth := 1
	for first := true; ; first = false {
		c, ok := s.peek()
		if !ok {
			s.stopCapture()
			return rec, false, r.fatalAt(rec, s.eofErr())
		}
		if c == '}' {
			s.skip()
			raw, within := s.stopCapture()
			rec, err := r.finishRecord(rec, raw, within, maxDepth)
			return rec, false, err
		}
		if !first {
			if c != ',' {
				return r.malformedObject(rec)
			}
			s.skip()
			if c, ok = s.peek(); !ok {
				s.stopCapture()
				return rec, false, r.fatalAt(rec, s.eofErr())
			}
		}
		if c != '"' {
			return r.malformedObject(rec)
		}
		keyStart := len(s.capBuf) + (s.r - s.capStart)
		if _, err := s.value(); err != nil {
			s.stopCapture()
			return rec, false, r.fatalAt(rec, err)
		}
		// "Records" is recognised only within the first MaxRecordBytes of the
		// object, as capOver alone would depend on where the reads ended.
		isRecordsKey := false
		if keyEnd := len(s.capBuf) + (s.r - s.capStart); !s.capOver && keyEnd <= s.capLimit && keyEnd-keyStart == len(`"Records"`) {
			// The key is still in the buffer or the capture; reassemble it cheaply,
			// copying the key only, never what the capture holds before it.
			var key []byte
			if n := len(s.capBuf); keyStart >= n {
				key = s.buf[s.capStart+keyStart-n : s.r]
			} else {
				key = append(append([]byte(nil), s.capBuf[keyStart:]...), s.buf[s.capStart:s.r]...)
			}
			isRecordsKey = string(key) == `"Records"`
		}
		if c, ok = s.peek(); !ok || c != ':' {
			return r.malformedObject(rec)
		}
		s.skip()
		if c, ok = s.peek(); !ok {
			s.stopCapture()
			return rec, false, r.fatalAt(rec, s.eofErr())
		}
		if isRecordsKey && c == '[' {
			// A delivery file: stream its records rather than holding the file.
			s.stopCapture()
			s.skip()
			r.inArray, r.inObject, r.needComma = true, true, false
			return Record{}, true, nil
		}
		if isRecordsKey {
			// {"Records": {…}} (or a string, number, null) was once read as one
			// event and its message deleted: it is a malformed log, and like a
			// truncated one it ends the input, so that the message is kept.
			s.stopCapture()
			return Record{}, false, r.fatal(fmt.Errorf("malformed log: \"Records\" is %s, not an array: %w", jsonKind(c), ErrMalformedLog))
		}
		d, err := s.value()
		if err != nil {
			s.stopCapture()
			return rec, false, r.fatalAt(rec, err)
		}
		maxDepth = max(maxDepth, d+1)
	}
}

// malformedObject reads the rest of a top-level object whose members are out of
// order, so that the JSON decoder can say precisely what is wrong with it and the
// input goes on after it.
func (r *Reader) malformedObject(rec Record) (Record, bool, error) {
	_, err := r.s.scan(1)
	raw, within := r.s.stopCapture()
	if err != nil {
		return rec, false, r.fatalAt(rec, err)
	}
	rec, err = r.finishRecord(rec, raw, within, 0)
	return rec, false, err
}

// finishObject skips what follows the "Records" array up to the end of its object.
func (r *Reader) finishObject() error {
	s := r.s
	for {
		c, ok := s.peek()
		if !ok {
			return r.fatal(s.eofErr())
		}
		switch c {
		case '}':
			s.skip()
			return nil
		case ',', ':':
			s.skip()
		case ']':
			// value would not consume it: without this the loop never ends.
			return r.fatal(fmt.Errorf("expected '}' to close the object holding the Records array, found %q", c))
		default:
			if _, err := s.value(); err != nil {
				return r.fatal(err)
			}
		}
	}
}

func (r *Reader) startRecord() Record {
	line, col := r.s.position()
	return Record{Source: r.source, Index: r.index, Offset: r.s.pos(), Line: line, Col: col}
}

// finishRecord checks one record's bytes and unwraps EventBridge events.
func (r *Reader) finishRecord(rec Record, raw []byte, within bool, depth int) (Record, error) {
	r.index++
	if !within {
		return Record{}, r.recordErr(rec, 0, fmt.Errorf("record larger than %d bytes: %w", r.limits.MaxRecordBytes, ErrTooLarge))
	}
	if depth > r.limits.MaxDepth {
		return Record{}, r.recordErr(rec, 0, fmt.Errorf("JSON nested %d deep, more than the limit of %d", depth, r.limits.MaxDepth))
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Record{}, r.recordErr(rec, 0, errors.New("a record must be a JSON object"))
	}
	rec.Raw = bytes.Clone(raw)
	if r.unchecked {
		return rec, nil
	}
	if err := Check(&rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Unchecked makes Next find records and check their size and nesting, but
// leave validating their JSON to the caller (Check), who may do it on other
// goroutines: validation is most of a reader's work, and a reader is one
// goroutine.
func (r *Reader) Unchecked() { r.unchecked = true }

// recordErr reports a problem at byte off inside the record rec.
func (r *Reader) recordErr(rec Record, off int64, err error) error {
	return recordErrIn(rec, r.s.capBuf, off, err)
}

func (r *Reader) fatalAt(rec Record, err error) error {
	e := r.errHere(rec.Index, r.wrapLimit(err))
	e.Fatal = true
	return e
}

func (r *Reader) fatal(err error) error {
	e := r.errHere(-1, r.wrapLimit(err))
	e.Fatal = true
	return e
}

func (r *Reader) wrapLimit(err error) error {
	if errors.Is(err, errLimit) {
		return fmt.Errorf("decompressed input larger than %d bytes: %w", r.limits.MaxBytes, ErrTooLarge)
	}
	if r.gz != nil && (errors.Is(err, errUnexpectedEOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return fmt.Errorf("%w (truncated gzip file?)", err)
	}
	return err
}

func (r *Reader) errHere(index int, err error) *DecodeError {
	line, col := r.s.position()
	return &DecodeError{Source: r.source, Offset: r.s.pos(), Line: line, Col: col, Index: index, Err: err}
}

var errLimit = errors.New("input limit reached")

// limitReader fails, rather than ending quietly, once more than left bytes were read.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
