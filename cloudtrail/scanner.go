package cloudtrail

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// scanner finds where the values of a JSON byte stream start and end, without
// reading them: it tracks nesting and strings only. It is not a JSON parser;
// the grammar is jsonscan's, which checks each record's bytes once they are
// found (in Next, or on the caller's goroutines for an Unchecked reader), so
// that one malformed record is reported and skipped while this stays in step
// with the stream.
type scanner struct {
	src  io.Reader
	buf  []byte
	r, w int
	off  int64 // stream offset of buf[0]
	err  error // sticky read error; io.EOF at the end

	line    int   // 1-based line of buf[r]
	lineOff int64 // stream offset where that line starts

	capturing bool
	capStart  int // index in buf where the pending capture begins
	capLimit  int // stop appending past this many bytes (the record is too large)
	capOver   bool
	capBuf    []byte

	// maxRun bounds a bare word (scalar) and a line skipped after garbage:
	// past a record's size limit no record can be inside either, and a
	// zero-filled gzip bomb is one endless such run, so reading further only
	// inflates it towards the input limit.
	maxRun int
}

func newScanner(src io.Reader, maxRun int) *scanner {
	return &scanner{src: src, buf: *scanBufs.Get().(*[]byte), line: 1, maxRun: maxRun}
}

var scanBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// release returns the scanner's buffer for reuse; the scanner is done.
func (s *scanner) release() {
	if s.buf != nil {
		b := s.buf
		scanBufs.Put(&b)
		s.buf, s.capBuf = nil, nil
	}
}

func (s *scanner) pos() int64 { return s.off + int64(s.r) }

// position returns the line and column of the next byte.
func (s *scanner) position() (line, col int) {
	return s.line, int(s.pos()-s.lineOff) + 1
}

// fill reads more input, keeping the unread bytes. It reports false at the end
// of input or on a read error (then s.err says which).
func (s *scanner) fill() bool {
	if s.err != nil {
		return false
	}
	if s.capturing {
		s.appendCapture(s.buf[s.capStart:s.r])
		s.capStart = 0
	}
	if s.r > 0 {
		n := copy(s.buf, s.buf[s.r:s.w])
		s.off += int64(s.r)
		s.w, s.r = n, 0
	}
	for s.w == s.r {
		n, err := s.src.Read(s.buf[s.w:])
		s.w += n
		if err != nil {
			s.err = err
			return s.w > s.r
		}
	}
	return true
}

func (s *scanner) appendCapture(b []byte) {
	if s.capOver {
		return
	}
	if s.capLimit > 0 && len(s.capBuf)+len(b) > s.capLimit {
		s.capOver = true
		return
	}
	s.capBuf = append(s.capBuf, b...)
}

func (s *scanner) startCapture(limit int) {
	s.capturing, s.capStart, s.capLimit, s.capOver = true, s.r, limit, false
	s.capBuf = s.capBuf[:0]
}

// stopCapture ends the capture and returns the bytes seen since startCapture
// (valid until the next capture), or ok=false when they passed the limit.
func (s *scanner) stopCapture() (b []byte, ok bool) {
	s.appendCapture(s.buf[s.capStart:s.r])
	s.capturing = false
	return s.capBuf, !s.capOver
}

// peek skips white space and returns the next byte without consuming it.
func (s *scanner) peek() (byte, bool) {
	for {
		for s.r < s.w {
			switch c := s.buf[s.r]; c {
			case ' ', '\t', '\r':
				s.r++
			case '\n':
				s.r++
				s.line++
				s.lineOff = s.pos()
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// skip consumes one byte (after peek said what it is).
func (s *scanner) skip() { s.r++ }

// skipLine consumes input up to and including the next newline, to resynchronise
// on newline-delimited input after garbage. It reports false, having stopped,
// when no newline comes within maxRun bytes: nothing valid can follow there.
func (s *scanner) skipLine() bool {
	// Checked at each byte, not after each read, so that the outcome does not
	// depend on how the input arrives.
	start := s.pos()
	for {
		for s.r < s.w {
			if s.pos()-start > int64(s.maxRun) {
				return false
			}
			c := s.buf[s.r]
			s.r++
			if c == '\n' {
				s.line++
				s.lineOff = s.pos()
				return true
			}
		}
		if !s.fill() {
			return true
		}
	}
}

var (
	errUnexpectedEOF = errors.New("unexpected end of input inside a JSON value")
	errUnbalanced    = errors.New("unbalanced closing bracket")
	errLongRun       = errors.New("a bare value longer than a record may be: no record can follow")
)

// value consumes one JSON value (object, array, string or scalar) and reports the
// deepest nesting it saw. It does not validate the value's contents.
func (s *scanner) value() (maxDepth int, err error) {
	c, ok := s.peek()
	if !ok {
		return 0, s.eofErr()
	}
	if c != '{' && c != '[' && c != '"' {
		return 0, s.scalar()
	}
	return s.scan(0)
}

// scan consumes input until the nesting, depth at the start, closes; it starts
// inside an object or array when depth > 0.
func (s *scanner) scan(depth int) (maxDepth int, err error) {
	maxDepth = depth
	inStr, esc := false, false
	for {
		for s.r < s.w {
			if inStr && !esc {
				// Most of a record is strings: jump to the next quote or
				// backslash with the vectorised byte search.
				s.skipStringRun()
				if s.r >= s.w {
					break
				}
			}
			c := s.buf[s.r]
			s.r++
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					if depth == 0 {
						return maxDepth, nil
					}
				case c == '\n':
					s.line++
					s.lineOff = s.pos()
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
				if depth > maxDepth {
					maxDepth = depth
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return maxDepth, nil
				}
				if depth < 0 {
					return maxDepth, errUnbalanced
				}
			case '\n':
				s.line++
				s.lineOff = s.pos()
			}
		}
		if !s.fill() {
			return maxDepth, s.eofErr()
		}
	}
}

// skipStringRun advances over string content up to (not past) the next quote
// or backslash in the buffer (the shared scanner's string fast path), counting
// any raw newlines on the way (invalid JSON, but positions must stay right for
// the error that follows).
func (s *scanner) skipStringRun() {
	seg := s.buf[s.r:s.w]
	n := jsonscan.StringRun(seg)
	if nl := bytes.IndexByte(seg[:n], '\n'); nl >= 0 {
		for i, c := range seg[nl:n] {
			if c == '\n' {
				s.line++
				s.lineOff = s.off + int64(s.r+nl+i+1)
			}
		}
	}
	s.r += n
}

// scalar consumes a number, true, false, null or any other bare word up to the
// next delimiter.
func (s *scanner) scalar() error {
	// Checked at each byte, as in skipLine.
	start := s.pos()
	for {
		for s.r < s.w {
			switch s.buf[s.r] {
			case ',', ']', '}', ' ', '\t', '\r', '\n', '{', '[', '"':
				return nil
			}
			if s.pos()-start > int64(s.maxRun) {
				return errLongRun
			}
			s.r++
		}
		if !s.fill() {
			if errors.Is(s.err, io.EOF) {
				return nil
			}
			return s.err
		}
	}
}

func (s *scanner) eofErr() error {
	if s.err == nil || errors.Is(s.err, io.EOF) {
		return errUnexpectedEOF
	}
	return s.err
}
