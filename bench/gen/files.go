package gen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Delivery is CloudTrail's delivery interval: about one file per region every
// five minutes.
const Delivery = 5 * time.Minute

// File is one CloudTrail delivery file.
type File struct {
	// Key is the S3 key CloudTrail gives it:
	// AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_RANDOM.json.gz
	Key     string
	Region  string
	Records int
	Size    int    // bytes of the uncompressed JSON
	Data    []byte // gzip-compressed {"Records":[…]}
}

// AppendLog appends an uncompressed delivery document {"Records":[…]} of n
// records in region, with event times spread over [from, to) in order.
func (g *Generator) AppendLog(dst []byte, n int, region string, from, to time.Time) []byte {
	span := to.Sub(from)
	times := make([]time.Duration, n)
	for i := range times {
		times[i] = time.Duration(g.rng.Int64N(int64(span)))
	}
	slices.Sort(times)
	dst = append(dst, `{"Records":[`...)
	for i, d := range times {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = g.AppendRecord(dst, region, from.Add(d))
	}
	return append(dst, "]}"...)
}

// File returns one gzip-compressed delivery file of n records in region for the
// delivery window ending at end.
func (g *Generator) File(n int, region string, end time.Time) File {
	raw := g.AppendLog(nil, n, region, end.Add(-Delivery), end)
	end = end.UTC()
	key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
		g.account, region, end.Format("2006/01/02"), g.account, region, end.Format("20060102T1504Z"), g.alnum(16))
	return File{Key: key, Region: region, Records: n, Size: len(raw), Data: Gzip(raw)}
}

// Files returns n delivery files as CloudTrail delivers them for the account:
// for each 5-minute window from Options.Start on, one file per region that saw
// activity, of a size drawn from that region's activity (a few records to a few
// hundred; us-east-1, where global services log, is the busiest).
func (g *Generator) Files(n int) []File {
	var out []File
	for end := g.start.Add(Delivery); len(out) < n; end = end.Add(Delivery) {
		for _, r := range regions {
			if len(out) == n {
				break
			}
			k := g.fileRecords(r.mean)
			if k == 0 {
				continue // CloudTrail writes no file for a quiet window
			}
			out = append(out, g.File(k, r.name, end))
		}
	}
	return out
}

// fileRecords draws the number of records in one region's 5-minute file: a
// log-normal around mean, so most files are near it and a few are several
// times larger.
func (g *Generator) fileRecords(mean float64) int {
	const sigma = 0.9
	mu := math.Log(mean) - sigma*sigma/2
	k := int(math.Round(math.Exp(mu + sigma*g.rng.NormFloat64())))
	return min(k, 999)
}

// LargeFile returns one delivery file of n records in us-east-1: a burst, such
// as a Terraform apply or an incident, in one window.
func (g *Generator) LargeFile(n int) File {
	return g.File(n, "us-east-1", g.start.Add(Delivery))
}

// WriteUncompressed writes to w one uncompressed {"Records":[…]} document of at
// least size bytes (records from every region, a few per second), for reading
// tests of very large inputs. It holds one record in memory at a time.
func (g *Generator) WriteUncompressed(w io.Writer, size int64) (records int, written int64, err error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	_, _ = io.WriteString(cw, `{"Records":[`) // a write error shows at Flush
	t := g.start
	var buf []byte
	for cw.n < size {
		t = t.Add(time.Duration(g.rng.ExpFloat64() * float64(100*time.Millisecond)))
		buf = buf[:0]
		if records > 0 {
			buf = append(buf, ',', '\n')
		}
		buf = g.AppendRecord(buf, g.region(), t)
		if _, err := cw.Write(buf); err != nil {
			return records, cw.n, err
		}
		records++
	}
	_, _ = io.WriteString(cw, "]}\n")
	if err := bw.Flush(); err != nil {
		return records, cw.n, err
	}
	return records, cw.n, cw.err
}

func (g *Generator) region() string {
	r := g.rng.Float64()
	for _, reg := range regions {
		if r < reg.share {
			return reg.name
		}
		r -= reg.share
	}
	return regions[0].name
}

// Records returns n single records of the usual mix, each its own JSON
// document, spread over one delivery window per region.
func (g *Generator) Records(n int) [][]byte {
	out := make([][]byte, n)
	t := g.start
	for i := range out {
		t = t.Add(time.Duration(g.rng.ExpFloat64() * float64(100*time.Millisecond)))
		out[i] = g.AppendRecord(nil, g.region(), t)
	}
	return out
}

// Gzip compresses b as CloudTrail's files are (gzip, no name, no time stamp, so
// the bytes depend on b alone).
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Log joins records into an uncompressed delivery document {"Records":[…]}.
func Log(records [][]byte) []byte {
	n := len(`{"Records":[]}`) + len(records)
	for _, r := range records {
		n += len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, "]}"...)
}
