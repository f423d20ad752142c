package sigma

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// BenchmarkWildcard compares the two ways of writing a case-insensitive
// wildcard match, through OPA: one anchored regex over lower() (all values
// of a field in one alternation) and one glob.match per value on lower().
func BenchmarkWildcard(b *testing.B) {
	det := "    sel:\n        userAgent|contains:\n            - 'trufflehog'\n            - 's3 browser'\n            - 'kali*linux'\n            - 'python-requests/?.*'\n    condition: sel"
	record := `{"userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.ls"}`
	for _, mode := range []struct {
		name string
		glob bool
	}{{"regex", false}, {"glob", true}} {
		b.Run(mode.name, func(b *testing.B) {
			old := wildcardGlob
			wildcardGlob = mode.glob
			r, err := Compile("bench.yml", []byte(ruleWith(det)), Options{})
			wildcardGlob = old
			if err != nil {
				b.Fatal(err)
			}
			benchEval(b, compileOPA(b, r), record, false)
		})
	}
}

// BenchmarkSigmaHQ evaluates all 57 SigmaHQ rules at once on a record none of
// them matches, and on one that three of them match.
func BenchmarkSigmaHQ(b *testing.B) {
	rules, _, errs := LoadPaths([]string{"testdata/sigmahq"}, Options{})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	c := compileOPA(b, rules...)
	b.Run("nomatch", func(b *testing.B) {
		benchEval(b, c, `{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userAgent":"aws-cli/2","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"},"sourceIPAddress":"198.51.100.1","requestParameters":{"bucketName":"b","key":"k"}}`, false)
	})
	b.Run("match", func(b *testing.B) {
		benchEval(b, c, `{"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","userAgent":"S3 Browser 9","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"sourceIPAddress":"198.51.100.1","requestParameters":{"userName":"b"}}`, true)
	})
}

func benchEval(b *testing.B, c *compiled, record string, want bool) {
	var in any
	if err := json.Unmarshal([]byte(record), &in); err != nil {
		b.Fatal(err)
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rs, err := c.query.Eval(ctx, rego.EvalParsedInput(v))
		if err != nil {
			b.Fatal(err)
		}
		if (len(rs) > 0) != want {
			b.Fatalf("%d results, want match=%v", len(rs), want)
		}
	}
}
