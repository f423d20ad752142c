package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// BenchmarkLogFile is CloudTrail delivery files end to end: gunzip, decode,
// evaluate every record against all shipped rules, write the alerts (as
// `trailguard eval` does, to io.Discard). events/s and bytes/s (uncompressed
// JSON) are the figures.
//
//   - floor-json-map: the floor, gunzip + encoding/json decoding every record
//     into map[string]any, streamed (json.Decoder Token/More), one goroutine;
//     each op is one file of the generated corpus, cycled;
//   - trailguard-gomaxprocs1, -gomaxprocs2: `trailguard eval` on the corpus
//     (pipeline.RunAll with its defaults: GOMAXPROCS files at a time, each
//     with GOMAXPROCS workers) with GOMAXPROCS 1 and 2; each op is the whole
//     corpus.
//
// The sub-benchmark names keep the -N suffix of the process's GOMAXPROCS; the
// name says what it ran with.
func BenchmarkLogFile(b *testing.B) {
	files := corpus()
	eng := newEngine(b)
	b.Run("floor-json-map", func(b *testing.B) {
		withProcs(1, func() { runFiles(b, files, floorFile) })
	})
	for _, procs := range []int{1, 2} {
		b.Run(fmt.Sprintf("trailguard-gomaxprocs%d", procs), func(b *testing.B) {
			withProcs(procs, func() { runCorpus(b, files, eng) })
		})
	}
}

// runFiles times fn over the files, one per op, and reports throughput.
func runFiles(b *testing.B, files []gen.File, fn func(b *testing.B, f gen.File) int) {
	b.ReportAllocs()
	var events, size int64
	i := 0
	for b.Loop() {
		f := files[i%len(files)]
		i++
		if n := fn(b, f); n != f.Records {
			b.Fatalf("%s: %d records read, the file has %d", f.Key, n, f.Records)
		}
		events += int64(f.Records)
		size += int64(f.Size)
	}
	report(b, events, size)
}

// floorFile decodes every record of a gzip delivery file into map[string]any.
func floorFile(b *testing.B, f gen.File) int {
	n, err := decodeRecords(bytes.NewReader(f.Data))
	if err != nil {
		b.Fatalf("%s: %v", f.Key, err)
	}
	return n
}

func decodeRecords(r io.Reader) (int, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	dec := json.NewDecoder(zr)
	expect := func(want json.Delim) error {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); !ok || d != want {
			return fmt.Errorf("expected %v, found %v", want, t)
		}
		return nil
	}
	if err := expect('{'); err != nil {
		return 0, err
	}
	n := 0
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return n, err
		}
		if key != "Records" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return n, err
			}
			continue
		}
		if err := expect('['); err != nil {
			return n, err
		}
		for dec.More() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return n, err
			}
			n++
		}
		if err := expect(']'); err != nil {
			return n, err
		}
	}
	return n, expect('}')
}

// runCorpus times `trailguard eval` over all the files, the whole corpus per
// op, and reports throughput.
func runCorpus(b *testing.B, files []gen.File, eng *engine.Engine) {
	b.ReportAllocs()
	var events, size int64
	for b.Loop() {
		n, s := evalFiles(b, files, eng)
		events += n
		size += s
	}
	report(b, events, size)
}

// evalFiles runs the files through pipeline.RunAll with its defaults, as
// `trailguard eval` does, checks that every record was read, and returns how
// many there were and their uncompressed size.
func evalFiles(b *testing.B, files []gen.File, eng *engine.Engine) (records, size int64) {
	return evalFilesIn(context.Background(), b, files, eng)
}

// evalFilesIn is evalFiles under ctx (its profiler labels: interleave).
func evalFilesIn(ctx context.Context, b *testing.B, files []gen.File, eng *engine.Engine) (records, size int64) {
	ins := make([]pipeline.Input, len(files))
	for i, f := range files {
		ins[i] = pipeline.Input{Name: f.Key, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.Data)), nil }}
		records += int64(f.Records)
		size += int64(f.Size)
	}
	var n int64
	line := lines.Get().(*[]byte)
	defer lines.Put(line)
	err := pipeline.RunAll(ctx, eng, ins, pipeline.Options{},
		// Borrows, as trailguard eval's output does: the sink keeps nothing.
		pipeline.Handler{Alert: alertSink(line), Borrows: true, Error: func(err error) { b.Errorf("%v", err) }},
		func(in pipeline.Input, st pipeline.Stats, err error) {
			if err != nil {
				b.Errorf("%s: %v", in.Name, err)
			}
			n += int64(st.Records)
		})
	if err != nil {
		b.Fatal(err)
	}
	if n != records {
		b.Fatalf("%d records read, the files have %d", n, records)
	}
	return records, size
}
