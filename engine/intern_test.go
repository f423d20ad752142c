package engine

import (
	"fmt"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestInternTable(t *testing.T) {
	var tab internTable
	a := tab.term([]byte("AssumedRole"))
	if a == nil || a.Value.Compare(ast.String("AssumedRole")) != 0 {
		t.Fatalf("term = %v", a)
	}
	if b := tab.term([]byte("AssumedRole")); b != a {
		t.Fatal("the same value made a second term")
	}
	if tab.term(make([]byte, 65)) != nil {
		t.Fatal("a long value was interned")
	}
	// Concurrent readers and writers (run with -race) see one term a value,
	// and the table stops at maxInterned.
	var wg sync.WaitGroup
	seen := make([]map[string]*ast.Term, 4)
	for g := range seen {
		seen[g] = map[string]*ast.Term{}
		wg.Go(func() {
			for i := range maxInterned + 1000 {
				s := fmt.Sprintf("v%d", i)
				if tm := tab.term([]byte(s)); tm != nil {
					if tm.Value.Compare(ast.String(s)) != 0 {
						t.Errorf("term of %s = %v", s, tm)
					}
					seen[g][s] = tm
				}
			}
		})
	}
	wg.Wait()
	total := len(*tab.snap.Load()) + len(tab.pending)
	if total != maxInterned {
		t.Fatalf("%d values interned, want the bound %d", total, maxInterned)
	}
	for s, tm := range seen[0] {
		for g := 1; g < len(seen); g++ {
			if other, ok := seen[g][s]; ok && other != tm {
				t.Fatalf("%s has two terms", s)
			}
		}
	}
}
