package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// validate and run agree: a configuration validate accepts starts, and one
// run cannot start with is refused by validate, for the same reason. Run
// without a region in the environment or an AWS config file, so that only
// the configuration gives one; the queue's endpoint is a closed port (run
// builds its clients offline and starts; its receives then fail, which is
// no configuration problem).
func TestValidateAndRunAgree(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// The daemon's default state is a file at a fixed path; this one gets its own.
	base := "state: {sqlite: {path: " + strconv.Quote(filepath.Join(t.TempDir(), "state.db")) + "}}\n" +
		"server: {listen: 127.0.0.1:0}\nsource:\n  type: sqs\n  sqs:\n    queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/q\n    endpoint: http://127.0.0.1:1\n"
	for _, c := range []struct {
		name, yaml string
		ok         bool
		says       string // in validate's output (warning or error)
	}{
		// The S3 region comes from the SQS region, and validate says so.
		{"sqs region only", base + "    region: eu-west-1\n  s3: {allowed_buckets: [trail-logs]}\n", true, "log objects are read in source.sqs.region eu-west-1"},
		{"both regions", base + "    region: eu-west-1\n  s3: {region: us-east-2, allowed_buckets: [trail-logs]}\n", true, "ok: "},
		// No region anywhere: S3 cannot be reached, and validate says so now.
		{"no region", base + "  s3: {allowed_buckets: [trail-logs]}\n", false, "no region"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			vcode, vout, verr := runCLI(t, "", "validate", "--packs", "none", "--config", path)
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			var out, errb strings.Builder
			rcode := run(ctx, []string{"run", "--config", path}, strings.NewReader(""), &out, &errb)
			if (vcode == exitOK) != c.ok || (rcode == exitOK) != c.ok {
				t.Fatalf("validate exit %d, run exit %d; want both ok=%v\nvalidate: %s%s\nrun: %s", vcode, rcode, c.ok, vout, verr, tailLines(errb.String(), 5))
			}
			if said := vout + verr; !strings.Contains(said, c.says) {
				t.Errorf("validate said %q, want %q in it", said, c.says)
			}
			if !c.ok && !strings.Contains(errb.String(), c.says) {
				t.Errorf("run said %q, want %q in it", tailLines(errb.String(), 5), c.says)
			}
		})
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return fmt.Sprint(lines[max(0, len(lines)-n):])
}
