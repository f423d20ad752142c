package daemon_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
)

// The stateful rules' steps of a log are committed before its message is
// deleted: once the queue is empty, the SQLite file holds them, read by a
// connection of its own while the daemon still runs (a killed daemon would
// keep them). Nothing here scrapes /metrics, whose state-size gauge would
// commit them too.
func testStatefulBatch(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	path := filepath.Join(t.TempDir(), "state.db")
	startDaemon(t, e.config(t,
		"rules:\n  packs: [aws, threats]\n",
		fmt.Sprintf("state:\n  type: sqlite\n  sqlite:\n    path: %s\n", path),
		"notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n",
	), daemon.Options{})
	// grace's and heidi's refused calls: threats.denied_calls_burst counts
	// each, one record per principal; one from a log object, one inline.
	k := th.LogKey("stateful")
	e.putLog(t, k, th.Benign(0), th.DeniedCall("grace"))
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
	e.send(t, th.EBCloudTrail(th.DeniedCall("heidi")))
	e.waitQueue(t, 0, 0, 15*time.Second)

	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("the state file holds %d stateful records once both messages were deleted, want 2", n)
	}
}
