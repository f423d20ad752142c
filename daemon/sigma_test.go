package daemon_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// sigmaHQ is the copy of SigmaHQ's CloudTrail rules the sigma package tests.
const sigmaHQ = "../sigma/testdata/sigmahq"

// The daemon loads rules.sigma and raises, on the same logs, exactly the
// alerts `trailguard eval --sigma` raises (the engine and pipeline that eval
// runs).
func testSigmaLikeEval(t *testing.T, _ *peers) {
	dir := t.TempDir()
	logs, err := filepath.Glob("../rules/testdata/stratus/*.json")
	if err != nil || len(logs) < 10 {
		t.Fatalf("detonation logs: %v (%d)", err, len(logs))
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(l)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// What eval gives: the Sigma rules alone, every file of dir.
	eng, err := engine.New(context.Background(), engine.WithPacks(), engine.WithSigma(sigmaHQ))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	inputs := make([]pipeline.Input, len(logs))
	for i, l := range logs {
		p := filepath.Join(dir, filepath.Base(l))
		inputs[i] = pipeline.Input{Name: p, Open: func() (io.ReadCloser, error) { return os.Open(p) }}
	}
	h := pipeline.Handler{Alert: func(_ context.Context, a *alert.Alert) error { want[a.RuleID+" "+a.EventID]++; return nil }}
	if err := pipeline.RunAll(context.Background(), eng, inputs, pipeline.Options{}, h, nil); err != nil {
		t.Fatal(err)
	}
	if len(want) < 20 {
		t.Fatalf("eval raised only %d alerts on the detonation logs; the comparison would prove little", len(want))
	}

	r := startDaemon(t, parseConfig(t,
		fmt.Sprintf("source:\n  type: dir\n  dir:\n    path: %s\n    watch: false\n", dir),
		fmt.Sprintf("rules:\n  packs: []\n  sigma: [%s]\n", sigmaHQ),
		"dedup:\n  window: 0s\n",
		"notifiers:\n  - {name: console, type: stdout}\n",
		"routes:\n  - notifiers: [console]\n",
	), daemon.Options{})
	got := alertKeys(r.Out.waitAlerts(t, len(want), 60*time.Second))
	if !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("%s: daemon %d, eval %d", k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: daemon %d, eval none", k, got[k])
			}
		}
	}
}
