package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// The pipeline's reader leaves checking each record's JSON to the engine's
// decoding, on the workers; a bad record must still be reported exactly as a
// checking reader reports it, in the same words and at the same place.
func TestBadRecordsReportedAsTheReaderReportsThem(t *testing.T) {
	puppet, err := os.ReadFile("../cloudtrail/testdata/puppet-createserver-trailing-comma.json")
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		"puppet.json": puppet,
		"mixed.json": []byte(`{"Records":[` + rootEvent(1, "ec2.amazonaws.com") + `,
  {"eventID":"x","eventSource":"ec2.amazonaws.com","a":[1,]},
  {"eventSource":"s3.amazonaws.com","requestParameters":{"k":"v\q"}},
  {"eventSource":"opsworks-cm.amazonaws.com","eventName":tru},
  {"eventSource":"iam.amazonaws.com",
   "x":{"y":-}},
  {"detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"ec2.amazonaws.com",}},
  {"userIdentity":{"type":"Root" "arn":"x"}},
  ` + rootEvent(2, "ec2.amazonaws.com") + `]}`),
	}
	ctx := context.Background()
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range inputs {
		var want []string
		r, err := cloudtrail.NewReader(bytes.NewReader(in), name, cloudtrail.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				want = append(want, err.Error())
			}
		}
		r.Close()

		var got []string
		if _, err := pipeline.Run(ctx, eng, bytes.NewReader(in), name, pipeline.Options{Workers: 2}, pipeline.Handler{
			Error: func(err error) {
				if _, ok := errors.AsType[*cloudtrail.DecodeError](err); !ok {
					t.Errorf("%s: %T %v is not a *cloudtrail.DecodeError", name, err, err)
				}
				got = append(got, err.Error())
			},
		}); err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: the pipeline reports\n%s\nthe checking reader\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	const puppetErr = "puppet.json:56:13: record 0: invalid character ']' looking for beginning of value (byte 2236)"
	if !strings.Contains(strings.Join(inputs2errors(t, eng, "puppet.json", puppet), "\n"), puppetErr) {
		t.Errorf("want %q", puppetErr)
	}
}

func inputs2errors(t *testing.T, eng *engine.Engine, name string, in []byte) (errs []string) {
	t.Helper()
	_, err := pipeline.Run(context.Background(), eng, bytes.NewReader(in), name, pipeline.Options{}, pipeline.Handler{
		Error: func(err error) { errs = append(errs, err.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return errs
}
