package bench

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"testing"
	"time"

	kpgzip "github.com/klauspost/compress/gzip"
)

// BenchmarkGunzip is decompression alone, the physical limit of the log
// pipeline: each op inflates one delivery file of the corpus (cycled) with
// compress/gzip and with klauspost/compress/gzip (which cloudtrail's reader
// uses), each reader reset rather than allocated (as the reader pools them),
// the two interleaved within each op so that they meet the same load. It
// reports bytes/s (uncompressed) of each and x-klauspost/std.
func BenchmarkGunzip(b *testing.B) {
	files := corpus()
	var std stdgzip.Reader
	var kp kpgzip.Reader
	var nsStd, nsKP time.Duration
	var size int64
	buf := make([]byte, 64<<10)
	drain := func(r io.Reader) {
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				return
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	withProcs(1, func() {
		i := 0
		for b.Loop() {
			f := files[i%len(files)]
			for k := range 2 {
				start := time.Now()
				if (i+k)%2 == 0 {
					if err := std.Reset(bytes.NewReader(f.Data)); err != nil {
						b.Fatal(err)
					}
					drain(&std)
					nsStd += time.Since(start)
				} else {
					if err := kp.Reset(bytes.NewReader(f.Data)); err != nil {
						b.Fatal(err)
					}
					drain(&kp)
					nsKP += time.Since(start)
				}
			}
			size += int64(f.Size)
			i++
		}
	})
	b.ReportMetric(float64(size)/nsStd.Seconds(), "bytes/s-std")
	b.ReportMetric(float64(size)/nsKP.Seconds(), "bytes/s-klauspost")
	b.ReportMetric(nsStd.Seconds()/nsKP.Seconds(), "x-klauspost/std")
}
