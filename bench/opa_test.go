package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/bench/internal/peers"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// The anchor: the same rules served by an OPA server, one HTTP POST per event
// over loopback, against trailguard's in-process engine, one event at a time in
// both cases, over the same 2,000 events of the usual mix.
//
// The OPA server evaluates bench/opa/alerts.rego, a one-rule wrapper that
// returns every rule's alerts (POST /v1/data/trailguard/alerts {"input": EVENT}),
// with rules/ (without the _test.rego files) and bench/opa/data.json loaded.
//
// Where the server comes from:
//   - OPA_URL set: that server (bench/run.sh starts one and sets it);
//   - otherwise, unless -short, bench/out/bin/opa if it exists, started here
//     (build it with bench/run.sh, or
//     GOBIN=$PWD/bench/out/bin go install github.com/open-policy-agent/opa@v1.22.3);
//   - otherwise, when TRAILGUARD_BENCH_OPA is set, the benchmark fails saying
//     how to build it;
//   - otherwise (CI: a fresh clone, no OPA) only trailguard-engine runs, and the
//     log says why; the report then shows the ratio as not measured.
const opaEnvURL, opaEnvWant = "OPA_URL", "TRAILGUARD_BENCH_OPA"

const opaBuild = "GOBIN=$PWD/bench/out/bin go install github.com/open-policy-agent/opa@v1.22.3 (from the module root), or run bench/run.sh"

// anchorEvents is how many events the per-event anchor cycles through.
const anchorEvents = 2000

var anchorRecords = sync.OnceValue(func() [][]byte {
	return gen.New(gen.Options{Seed: eventsSeed}).Records(anchorEvents)
})

func BenchmarkOPAServer(b *testing.B) {
	events := anchorRecords()
	eng := newEngine(b)
	url, why := opaServer(b)
	b.Run("trailguard-engine", func(b *testing.B) {
		if url == "" {
			// Benchmark logs are printed whatever -v says: CI's output says why
			// the OPA side is missing.
			b.Logf("opa-server-http not run: %s", why)
		}
		ctx := context.Background()
		var size int64
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			raw := events[i%len(events)]
			i++
			if _, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: raw, Source: "anchor", Index: i}); err != nil {
				b.Fatal(err)
			}
			size += int64(len(raw))
		}
		report(b, int64(b.N), size)
	})

	if url == "" {
		return
	}
	client := &http.Client{Timeout: 30 * time.Second}
	checkOPAAgrees(b, client, url, eng, events)
	b.Run("opa-server-http", func(b *testing.B) {
		var body bytes.Buffer
		var size int64
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			raw := events[i%len(events)]
			i++
			if _, err := opaAlerts(client, url, &body, raw, false); err != nil {
				b.Fatal(err)
			}
			size += int64(len(raw))
		}
		report(b, int64(b.N), size)
	})
}

// opaServer returns the URL of the OPA server to use, or "" and why not.
func opaServer(b *testing.B) (url, why string) {
	if u := os.Getenv(opaEnvURL); u != "" {
		return strings.TrimSuffix(u, "/"), ""
	}
	bin := filepath.Join("out", "bin", "opa")
	_, statErr := os.Stat(bin)
	switch {
	case statErr == nil && !testing.Short():
		u, err := startOPA(b, bin)
		if err != nil {
			b.Fatalf("start %s: %v", bin, err)
		}
		return u, ""
	case os.Getenv(opaEnvWant) != "":
		b.Fatalf("%s is set but there is no OPA server: set %s to a running one, or build bench/out/bin/opa: %s", opaEnvWant, opaEnvURL, opaBuild)
	case testing.Short():
		return "", "-short; the anchor needs an OPA server (" + opaEnvURL + ")"
	}
	return "", "no OPA server: set " + opaEnvURL + ", or build bench/out/bin/opa with " + opaBuild
}

// startOPA runs `opa run --server` on a free loopback port with the shipped
// rules, the wrapper and the data, and stops it when the benchmark ends.
func startOPA(b *testing.B, bin string) (string, error) {
	port, err := peers.FreePort()
	if err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, opaArgs(addr, "..")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, nil
			}
		}
		select {
		case <-exited:
			return "", fmt.Errorf("opa exited: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", errors.New("opa not healthy after 30s: " + out.String())
		}
	}
}

// opaArgs are the arguments of `opa run` serving the shipped rules on addr;
// root is the module root. bench/run.sh passes the same. The rules' tests and
// their data (rules/testdata: recorded logs, which OPA would load as data
// documents, conflicting) are left out, as the engine leaves them out.
func opaArgs(addr, root string) []string {
	return []string{"run", "--server", "--addr", addr, "--log-level", "error", "--ignore", "*_test.rego", "--ignore", "testdata",
		filepath.Join(root, "rules"), filepath.Join(root, "bench", "opa", "alerts.rego"), filepath.Join(root, "bench", "opa", "data.json")}
}

// opaAlerts POSTs one event and returns how many alerts the server found
// (decoding the answer only when count is set).
func opaAlerts(client *http.Client, url string, body *bytes.Buffer, raw []byte, count bool) (int, error) {
	body.Reset()
	body.WriteString(`{"input":`)
	body.Write(raw)
	body.WriteByte('}')
	resp, err := client.Post(url+"/v1/data/trailguard/alerts", "application/json", body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return 0, fmt.Errorf("OPA answered %s: %s", resp.Status, msg)
	}
	if !count {
		_, err := io.Copy(io.Discard, resp.Body)
		return 0, err
	}
	var res struct {
		Result []json.RawMessage `json:"result"`
	}
	err = json.NewDecoder(resp.Body).Decode(&res)
	return len(res.Result), err
}

// checkOPAAgrees makes sure the server evaluates the same rules: the same
// number of alerts as the engine for every event of the set (not timed).
func checkOPAAgrees(b *testing.B, client *http.Client, url string, eng *engine.Engine, events [][]byte) {
	var body bytes.Buffer
	total := 0
	for i, raw := range events {
		want, err := eng.Evaluate(context.Background(), cloudtrail.Record{Raw: raw, Source: "anchor", Index: i})
		if err != nil {
			b.Fatal(err)
		}
		got, err := opaAlerts(client, url, &body, raw, true)
		if err != nil {
			b.Fatalf("OPA server at %s: %v", url, err)
		}
		if got != len(want) {
			b.Fatalf("event %d: OPA server found %d alerts, the engine %d: not the same rules?\n%s", i, got, len(want), raw)
		}
		total += got
	}
	if total == 0 {
		b.Fatal("no alerts in the anchor's events")
	}
}
