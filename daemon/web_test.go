package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
)

// hostileAgent is a userAgent an attacker controls: the page must show it
// as text, never run or render it.
const hostileAgent = `<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`

// webDaemon runs a daemon on the bundled sample logs plus one log with a
// hostile userAgent, its state (and so its history) in the SQLite file at
// statePath, and waits until every alert is in the history.
func webDaemon(t *testing.T, statePath string, withSamples bool) (*run, int) {
	t.Helper()
	dir := t.TempDir()
	if withSamples {
		if err := os.CopyFS(filepath.Join(dir, "samples"), os.DirFS("../examples/logs")); err != nil {
			t.Fatal(err)
		}
		r := th.DeniedCall("intruder")
		r["userAgent"] = hostileAgent
		th.Publish(t, filepath.Join(dir, "hostile.json"), th.Log(r))
	}
	cfg := parseConfig(t,
		fmt.Sprintf("source:\n  type: dir\n  dir:\n    path: %s\n    watch: true\n", dir),
		"rules:\n  packs: [opsworkscm, aws, threats]\n",
		fmt.Sprintf("state:\n  type: sqlite\n  sqlite:\n    path: %s\n", statePath),
		"dedup:\n  window: 1h\n")
	d := startDaemon(t, cfg, daemon.Options{})
	// The history is complete once every file is read.
	files := 0
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, _ error) error {
		if e != nil && !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			files++
		}
		return nil
	})
	d.waitMetric(t, `trailguard_files_total{outcome="ok"}`, float64(files), 90*time.Second)
	var p struct{ Total int }
	getJSON(t, d, "/api/alerts?range=all&limit=1", &p)
	var h struct{ Total int }
	getJSON(t, d, "/api/alerts?range=all&q=__pwned", &h)
	if withSamples && (h.Total == 0 || p.Total < 20) {
		t.Fatalf("history has %d alerts, the hostile one %d times", p.Total, h.Total)
	}
	return d, p.Total
}

func getJSON(t *testing.T, d *run, path string, v any) {
	t.Helper()
	code, body := d.get(t, path)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestWebPageInBrowser drives headless Chromium against a running daemon as
// the on-call person would: the overview, the table filtered to high
// severity, one alert's detail, a hostile field, the rules and the health.
// Screenshots are saved as the test's artefacts (go test -artifacts).
func TestWebPageInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is needed (scripts/test.sh installs Debian's chromium): %v", err)
	}
	d, total := webDaemon(t, filepath.Join(t.TempDir(), "state.db"), true)
	base := "http://" + d.Addr

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Headless, chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	tab, cancelT := chromedp.NewContext(actx)
	defer cancelT()
	tab, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()

	shots := []string{t.ArtifactDir()}
	if dir := os.Getenv("TRAILGUARD_SCREENSHOTS"); dir != "" {
		shots = append(shots, dir) // to refresh the README's screenshots
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		for _, dir := range shots {
			if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}

	// Overview: the total matches the table's, the chart has bars.
	do("overview", chromedp.Navigate(base+"/?range=all"), chromedp.WaitVisible("#chart"))
	if got := text("#total"); got != fmt.Sprint(total) {
		t.Errorf("overview total %s, the history holds %d", got, total)
	}
	if n := eval(`String(document.querySelectorAll("#chart rect").length)`); n == "0" {
		t.Errorf("the chart has no bars")
	}
	do("overview, last day", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#chart"))
	shot("overview")

	// The table, filtered to high severity with the form.
	do("alerts", chromedp.Navigate(base+"/alerts"), chromedp.WaitVisible("#alerts"),
		chromedp.SetValue("#f-severity", "high"), chromedp.Click("#apply"),
		chromedp.WaitVisible(`#alerts tbody tr td a[href^="/alerts/"]`))
	if loc, _ := chromedp.Run(tab, chromedp.Location()); !strings.Contains(loc, "severity=high") {
		t.Errorf("the filter form went to %s", loc)
	}
	var high struct{ Total int }
	getJSON(t, d, "/api/alerts?severity=high", &high)
	if got := text("#count"); high.Total == 0 || got != fmt.Sprint(high.Total) {
		t.Errorf("table shows %s high alerts, the API %d", got, high.Total)
	}
	sevs := eval(`[...new Set([...document.querySelectorAll("#alerts tbody .sev")].map(e => e.textContent))].join(",")`)
	if sevs != "high" {
		t.Errorf("severities in the filtered table: %q", sevs)
	}
	shot("alerts-high")

	// Open the first one.
	do("open a detail", chromedp.Click(`#alerts tbody tr:first-child td.msg a`), chromedp.WaitVisible("#fields"))
	if loc, _ := chromedp.Run(tab, chromedp.Location()); !strings.Contains(loc, "/alerts/") {
		t.Errorf("the row's link went to %s", loc)
	}
	if got := eval(`document.querySelector("h1 .sev").textContent`); got != "high" {
		t.Errorf("detail of a high alert says %q", got)
	}
	if text("#raw") == "" || text("#deliveries") == "" {
		t.Errorf("detail without its event or deliveries")
	}

	// The hostile userAgent is text: no script ran, no element was made.
	var hostile struct {
		Alerts []struct{ ID string }
	}
	getJSON(t, d, "/api/alerts?range=all&q=__pwned", &hostile)
	do("hostile detail", chromedp.Navigate(base+"/alerts/"+hostile.Alerts[0].ID), chromedp.WaitVisible("#useragent"))
	if got := eval(`document.getElementById("useragent").textContent`); got != hostileAgent {
		t.Errorf("userAgent rendered as %q, want the text %q", got, hostileAgent)
	}
	if got := eval(`String(window.__pwned) + " " + document.querySelectorAll("main img, main script").length`); got != "undefined 0" {
		t.Errorf("hostile field ran or made elements: %s", got)
	}
	shot("detail")
	do("hostile in the table", chromedp.Navigate(base+"/alerts?range=all&q=__pwned"), chromedp.WaitVisible("#alerts"))
	if got := eval(`String(window.__pwned) + " " + document.querySelectorAll("main img, main script").length`); got != "undefined 0" {
		t.Errorf("hostile field ran or made elements in the table: %s", got)
	}

	// Rules with hits, and the health page.
	do("rules", chromedp.Navigate(base+"/rules"), chromedp.WaitVisible("#rules"))
	if n := eval(`String(document.querySelectorAll("#rules tbody tr").length)`); n == "0" {
		t.Errorf("no rule listed")
	}
	if hits := eval(`String([...document.querySelectorAll("#rules td.n")].reduce((s, e) => s + Number(e.textContent), 0))`); hits != fmt.Sprint(total) {
		t.Errorf("rules' hits add up to %s, the history holds %d", hits, total)
	}
	do("health", chromedp.Navigate(base+"/health"), chromedp.WaitVisible("#facts"))
	if got := text("#ready"); !strings.HasPrefix(got, "Ready") {
		t.Errorf("health says %q", got)
	}
	shot("health")

	// On a phone: no page is wider than the screen (the table scrolls in
	// its own box).
	do("phone", chromedp.EmulateViewport(390, 844))
	for _, p := range []string{"/", "/alerts?range=all", "/alerts/" + hostile.Alerts[0].ID, "/rules", "/health"} {
		do("phone "+p, chromedp.Navigate(base+p), chromedp.WaitVisible("main"))
		if got := eval(`document.documentElement.scrollWidth + " " + window.innerWidth`); got != "390 390" {
			t.Errorf("%s on a phone: page width, screen width = %s; wider: %s", p, got,
				eval(`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id).join(" ")`))
		}
	}
	shot("phone-alerts")
}

// TestWebHistorySurvivesRestart: the alerts of one run are on the page of
// the next, with SQLite state.
func TestWebHistorySurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	d, total := webDaemon(t, path, true)
	if err := d.Stop(t); err != nil {
		t.Fatal(err)
	}
	d2, _ := webDaemon(t, path, false) // no logs this time
	var p struct{ Total int }
	getJSON(t, d2, "/api/alerts?range=all", &p)
	if p.Total != total {
		t.Errorf("after a restart the history holds %d alerts, before %d", p.Total, total)
	}
	code, body := d2.get(t, "/alerts?range=all&q=__pwned")
	if code != 200 || !strings.Contains(body, "aws.") {
		t.Errorf("the page after a restart: %d %s", code, body)
	}
}
