package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
)

// equivRecords are the records the prefilter is checked on: the published
// samples, the detonation logs the threats pack is tested with, generated
// ordinary traffic, and each of them again with its commonly matched string
// fields in other cases (Sigma matches case-insensitively) and with
// userIdentity inside a list (a Sigma field path looks into lists).
func equivRecords(t *testing.T) [][]byte {
	t.Helper()
	var files []string
	for _, pat := range []string{"../examples/logs/*/*.json", "../rules/testdata/stratus/*.json"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("only %d sample files found", len(files))
	}
	var out [][]byte
	read := func(name string, r io.Reader) {
		cr, err := cloudtrail.NewReader(r, name, cloudtrail.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer cr.Close()
		for {
			rec, err := cr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				continue // a malformed record of a sample: the reader's business
			}
			out = append(out, bytes.Clone(rec.Raw))
		}
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		read(f, fh)
		fh.Close()
	}
	for _, f := range gen.New(gen.Options{Seed: 7}).Files(20) {
		zr, err := gzip.NewReader(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatal(err)
		}
		read(f.Key, zr)
	}
	n := len(out)
	for _, raw := range out[:n] {
		var rec map[string]any
		if json.Unmarshal(raw, &rec) != nil {
			continue
		}
		for _, k := range []string{"eventSource", "eventName", "userAgent", "sourceIPAddress", "eventType"} {
			if s, ok := rec[k].(string); ok {
				rec[k] = strings.ToUpper(s)
			}
		}
		if ui, ok := rec["userIdentity"].(map[string]any); ok {
			for _, k := range []string{"type", "arn"} {
				if s, ok := ui[k].(string); ok {
					ui[k] = strings.ToUpper(s)
				}
			}
			upper, _ := json.Marshal(rec)
			rec["userIdentity"] = []any{ui}
			listed, _ := json.Marshal(rec)
			out = append(out, upper, listed)
		}
	}
	return out
}

// TestPrefilterEquivalence: for every record, the alerts (and evaluation
// errors) are the same whether the prefilter chose the candidate rules (and
// perhaps skipped decoding) or every rule was evaluated on the decoded
// record. The prefilter may only ever save work.
func TestPrefilterEquivalence(t *testing.T) {
	ctx := context.Background()
	eng, err := New(ctx, WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}), WithSigma("../sigma/testdata/sigmahq"))
	if err != nil {
		t.Fatal(err)
	}
	if eng.pre == nil || len(eng.pre.guards) < 40 {
		t.Fatalf("prefilter %v: want the Sigma rules' guards", eng.pre != nil)
	}
	recs := equivRecords(t)
	var skipped, alerts int
	for _, raw := range recs {
		rec := cloudtrail.Record{Source: "equiv", Raw: raw}
		in, err := eng.DecodeRecord(rec)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if in.Skipped() {
			skipped++
		}
		got, gerr := eng.EvaluateInput(ctx, in)
		full, err := Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := eng.EvaluateInput(ctx, full)
		if (gerr == nil) != (werr == nil) || !slices.Equal(alertList(got), alertList(want)) {
			t.Errorf("record %s:\nprefiltered: %v %v\nevery rule:  %v %v", raw, alertList(got), gerr, alertList(want), werr)
		}
		alerts += len(want)
	}
	t.Logf("%d records, %d skipped undecoded, %d alerts", len(recs), skipped, alerts)
	if skipped == 0 || alerts == 0 {
		t.Fatalf("a vacuous comparison: %d skipped, %d alerts", skipped, alerts)
	}
}

func alertList(as []alert.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.RuleID+" "+a.Message)
	}
	slices.Sort(out)
	return out
}
