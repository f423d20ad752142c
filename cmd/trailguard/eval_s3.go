package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/progress"
	"github.com/trailguard/trailguard/pipeline"
	"github.com/trailguard/trailguard/source/s3replay"
)

// s3Files is --files for s3:// inputs when not given: reads there wait on
// the network far more than on the cores.
const s3Files = 16

// s3Flags are eval's flags for s3:// inputs.
type s3Flags struct {
	since, until      string
	accounts, regions commaList
	endpoint, region  string
	pathStyle         bool
}

func (s *s3Flags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.since, "since", "", "s3:// only: events from this time: RFC 3339, a date (UTC) or an age (7d, 36h)")
	fs.StringVar(&s.until, "until", "", "s3:// only: events before this time; a date includes that day")
	fs.Var(&s.accounts, "accounts", "s3:// only: comma-separated account ids to read (repeatable)")
	fs.Var(&s.regions, "regions", "s3:// only: comma-separated regions to read (repeatable)")
	fs.StringVar(&s.endpoint, "s3-endpoint", "", "S3 endpoint URL of an S3-compatible store (default: AWS's)")
	fs.StringVar(&s.region, "s3-region", "", "region of the bucket (default: the AWS SDK's chain, AWS_REGION)")
	fs.BoolVar(&s.pathStyle, "s3-path-style", false, "address buckets as ENDPOINT/BUCKET (most S3-compatible stores)")
}

// filter reads the selection flags; its errors are usage errors.
func (s *s3Flags) filter(now time.Time) (s3replay.Filter, error) {
	f := s3replay.Filter{Accounts: s.accounts, Regions: s.regions}
	var err error
	if s.since != "" {
		if f.Since, err = s3replay.ParseTime(s.since, now, false); err != nil {
			return f, usagef("--since: %w", err)
		}
	}
	if s.until != "" {
		if f.Until, err = s3replay.ParseTime(s.until, now, true); err != nil {
			return f, usagef("--until: %w", err)
		}
	}
	if err := f.Validate(); err != nil {
		return f, usagef("%w", err)
	}
	return f, nil
}

// commaList collects comma-separated values of a flag given several times.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }
func (l *commaList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func isS3(arg string) bool { return strings.HasPrefix(arg, "s3://") }

// s3Lister turns s3:// arguments into inputs, one client per bucket.
type s3Lister struct {
	flags   *s3Flags
	filter  s3replay.Filter
	files   int
	stderr  io.Writer
	clients map[string]*s3replay.Client
}

// inputs lists the objects under url that the filter keeps, in key order.
// Listing errors (no such bucket, access denied) are returned for the caller
// to report; the other arguments are still read.
func (l *s3Lister) inputs(ctx context.Context, url string) ([]evalInput, error) {
	bucket, prefix, err := s3replay.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := l.clients[bucket]
	if c == nil {
		c, err = s3replay.New(ctx, bucket, s3replay.Options{
			Region: l.flags.region, Endpoint: l.flags.endpoint, PathStyle: l.flags.pathStyle, Concurrency: l.files,
		})
		if err != nil {
			return nil, err
		}
		l.clients[bucket] = c
	}
	listing, err := c.List(ctx, prefix, l.filter, 0)
	if err != nil {
		return nil, err
	}
	if listing.Unpruned > 0 {
		fmt.Fprintf(l.stderr, "warning: %s: %d objects outside CloudTrail's key layout (e.g. %s) could not be pruned by %s: read whole\n",
			url, listing.Unpruned, c.URL(listing.Example), filterFlags(listing.Filters))
	}
	var size int64
	ins := make([]evalInput, len(listing.Objects))
	for i, o := range listing.Objects {
		key := o.Key
		size += o.Size
		ins[i] = evalInput{size: o.Size, Input: pipeline.Input{Name: c.URL(key), Open: func() (io.ReadCloser, error) {
			return c.Open(ctx, key)
		}}}
	}
	fmt.Fprintf(l.stderr, "%s: %d objects (%s) selected in %d list requests\n", url, len(ins), progress.Bytes(size), listing.Requests)
	return ins, nil
}

// filterFlags names the flags behind Filter.Unpruned's names.
func filterFlags(names []string) string {
	flags := make([]string, len(names))
	for i, n := range names {
		flags[i] = "--" + n
		if n == "time" {
			flags[i] = "--since/--until"
		}
	}
	return strings.Join(flags, ", ")
}

// inWindow reports whether an alert's event happened within --since and
// --until. Files near the bounds hold events on both sides of them
// (CloudTrail delivers up to about 15 minutes late), so the files alone
// would not bound the output. An event time that does not parse is kept.
func inWindow(f s3replay.Filter, a *alert.Alert) bool {
	if f.Since.IsZero() && f.Until.IsZero() {
		return true
	}
	t, err := time.Parse(time.RFC3339, a.EventTime)
	if err != nil {
		return true
	}
	return (f.Since.IsZero() || !t.Before(f.Since)) && (f.Until.IsZero() || t.Before(f.Until))
}
