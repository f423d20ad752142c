// Command gen writes synthetic CloudTrail log files for trailguard's benchmarks
// (see package bench/gen for what they hold).
//
//	go run ./bench/cmd/gen -out bench/out/logs -files 300 -large bench/out/large.json.gz
//	go run ./bench/cmd/gen -files 0 -big bench/out/big.json -big-size 1GiB
//
// Delivery files are written under -out with the S3 keys CloudTrail gives them
// (AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/….json.gz). The output is a
// function of the flags alone; when a directory or file already holds what the
// same flags would write (a .gen stamp beside it says so) it is left as it is.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	seed := flag.Uint64("seed", 1, "seed: the same seed writes the same bytes")
	account := flag.String("account", "123456789012", "AWS account id of the records")
	out := flag.String("out", "bench/out/logs", "directory for the delivery files")
	files := flag.Int("files", 300, "number of delivery files (gzip, a few to a few hundred records each)")
	large := flag.String("large", "", "also write one large delivery file (gzip) here")
	largeRecords := flag.Int("large-records", 25000, "records in the -large file")
	big := flag.String("big", "", "also write one uncompressed {\"Records\":[…]} file of -big-size here")
	bigSize := flag.String("big-size", "1GiB", "size of the -big file (bytes, or with a KiB/MiB/GiB or KB/MB/GB suffix)")
	force := flag.Bool("force", false, "write even when the .gen stamp says the output is already there")
	flag.Parse()

	opts := gen.Options{Seed: *seed, Account: *account}
	if *files > 0 {
		stamp := fmt.Sprintf("seed=%d account=%s files=%d", *seed, *account, *files)
		if err := once(filepath.Join(*out, ".gen"), stamp, *force, func() error { return writeFiles(opts, *out, *files) }); err != nil {
			return err
		}
	}
	if *large != "" {
		stamp := fmt.Sprintf("seed=%d account=%s large=%d", *seed, *account, *largeRecords)
		err := once(*large+".gen", stamp, *force, func() error {
			f := gen.New(gen.Options{Seed: *seed + 1, Account: *account}).LargeFile(*largeRecords)
			if err := writeFile(*large, f.Data); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: %d records, %s uncompressed, %s gzip\n", *large, f.Records, mb(int64(f.Size)), mb(int64(len(f.Data))))
			return nil
		})
		if err != nil {
			return err
		}
	}
	if *big != "" {
		size, err := parseSize(*bigSize)
		if err != nil {
			return fmt.Errorf("-big-size: %w", err)
		}
		stamp := fmt.Sprintf("seed=%d account=%s big=%d", *seed, *account, size)
		return once(*big+".gen", stamp, *force, func() error { return writeBig(gen.Options{Seed: *seed + 2, Account: *account}, *big, size) })
	}
	return nil
}

// once runs write unless the stamp file says it already ran with these flags.
func once(stampPath, stamp string, force bool, write func() error) error {
	if b, err := os.ReadFile(stampPath); err == nil && strings.TrimSpace(string(b)) == stamp && !force {
		fmt.Fprintf(os.Stderr, "%s: up to date (%s)\n", strings.TrimSuffix(strings.TrimSuffix(stampPath, ".gen"), "/"), stamp)
		return nil
	}
	os.Remove(stampPath)
	if err := write(); err != nil {
		return err
	}
	return os.WriteFile(stampPath, []byte(stamp+"\n"), 0o644)
}

func writeFiles(opts gen.Options, dir string, n int) error {
	start := time.Now()
	if err := os.RemoveAll(filepath.Join(dir, "AWSLogs")); err != nil {
		return err
	}
	var records, size, gz int64
	for _, f := range gen.New(opts).Files(n) {
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(f.Key)), f.Data); err != nil {
			return err
		}
		records += int64(f.Records)
		size += int64(f.Size)
		gz += int64(len(f.Data))
	}
	fmt.Fprintf(os.Stderr, "%s: %d delivery files, %d records (%.0f per file), %s uncompressed, %s gzip, in %s\n",
		dir, n, records, float64(records)/float64(n), mb(size), mb(gz), time.Since(start).Round(time.Millisecond))
	return nil
}

func writeBig(opts gen.Options, path string, size int64) error {
	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	records, written, err := gen.New(opts).WriteUncompressed(f, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d records, %s uncompressed, in %s\n", path, records, mb(written), time.Since(start).Round(time.Millisecond))
	return nil
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || n <= 0 {
		return 0, errors.New("expected a positive size such as 1GiB or 500MB")
	}
	return int64(n * float64(mult)), nil
}
