package testpeers

import (
	"strings"
	"testing"
)

// JoinYAML joins top-level YAML fragments ("log:\n  level: debug\n") into one
// document; a fragment replaces an earlier one with the same top-level key, so
// tests write only what differs from their defaults.
func JoinYAML(t testing.TB, fragments ...string) string {
	t.Helper()
	var keys []string
	doc := map[string]string{}
	for _, f := range fragments {
		k, _, ok := strings.Cut(f, ":")
		if !ok || strings.ContainsAny(k, " \n") {
			t.Fatalf("fragment does not start with a top-level key: %q", f)
		}
		if _, seen := doc[k]; !seen {
			keys = append(keys, k)
		}
		doc[k] = f
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(strings.TrimRight(doc[k], "\n") + "\n")
	}
	return b.String()
}
