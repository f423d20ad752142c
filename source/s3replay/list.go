package s3replay

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	dirsource "github.com/trailguard/trailguard/source/dir"
)

// listAPI is the part of *s3.Client a listing uses.
type listAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Object is one log object a listing selected. It is small on purpose: a
// month of an organisation's trail is millions of them.
type Object struct {
	Key  string
	Size int64
}

// Listing is what List found.
type Listing struct {
	// Objects are the selected objects in key order, the order S3 lists them.
	Objects []Object
	// Unpruned counts the selected objects whose keys the filters could not
	// judge (see Filter.Unpruned); they are read whole. Example is one of
	// them and Filters names the filters concerned.
	Unpruned int
	Example  string
	Filters  []string
	// Requests is the number of list requests made.
	Requests int
}

// DefaultListParallel is how many folders List lists at once by default.
const DefaultListParallel = 8

// List walks bucket under prefix one folder at a time and returns the log
// objects f keeps. A prefix that does not end in "/" names an object or a
// folder (logs selects logs/ and the object logs, not logs2/). Objects
// outside CloudTrail's layout are kept when their names look like logs (as
// eval's directory walk takes them), whatever f says; Listing.Unpruned
// counts them.
func List(ctx context.Context, api listAPI, bucket, prefix string, f Filter, parallel int) (*Listing, error) {
	if parallel <= 0 {
		parallel = DefaultListParallel
	}
	w := &walker{api: api, bucket: bucket, filter: f, out: &Listing{}}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	w.g = g
	g.Go(func() error { return w.folder(ctx, prefix) })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(w.out.Objects, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	slices.Sort(w.out.Filters)
	w.out.Filters = slices.Compact(w.out.Filters)
	return w.out, nil
}

type walker struct {
	api    listAPI
	bucket string
	filter Filter
	g      *errgroup.Group

	mu  sync.Mutex
	out *Listing
}

// folder lists one folder (or, without a trailing "/", what the prefix
// names) and walks the subfolders the filter keeps.
func (w *walker) folder(ctx context.Context, prefix string) error {
	exact := prefix != "" && !strings.HasSuffix(prefix, "/")
	pages := s3.NewListObjectsV2Paginator(w.api, &s3.ListObjectsV2Input{
		Bucket:    aws.String(w.bucket),
		Prefix:    aws.String(prefix),
		Delimiter: aws.String("/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		w.mu.Lock()
		w.out.Requests++
		w.mu.Unlock()
		if err != nil {
			return fmt.Errorf("listing s3://%s/%s: %w", w.bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			sub := aws.ToString(cp.Prefix)
			if exact && sub != prefix+"/" || !w.filter.Keep(Parse(sub)) {
				continue
			}
			if err := w.spawn(ctx, sub); err != nil {
				return err
			}
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if exact && key != prefix {
				continue
			}
			w.object(key, aws.ToInt64(o.Size))
		}
	}
	return nil
}

// spawn walks a subfolder on its own goroutine when the limit allows, and
// in this one otherwise: waiting for a free slot could deadlock when every
// slot is a parent waiting for its children.
func (w *walker) spawn(ctx context.Context, prefix string) error {
	if w.g.TryGo(func() error { return w.folder(ctx, prefix) }) {
		return nil
	}
	return w.folder(ctx, prefix)
}

func (w *walker) object(key string, size int64) {
	if strings.HasSuffix(key, "/") || !dirsource.IsLogFile(path.Base(key)) {
		return // a folder marker, a README, a manifest
	}
	p := Parse(key)
	if !w.filter.Keep(p) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Objects = append(w.out.Objects, Object{Key: key, Size: size})
	if p.Level == File {
		return
	}
	if unpruned := w.filter.Unpruned(p); len(unpruned) > 0 {
		if w.out.Unpruned == 0 {
			w.out.Example = key
		}
		w.out.Unpruned++
		w.out.Filters = append(w.out.Filters, unpruned...)
	}
}
