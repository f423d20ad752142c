package testharness

import "testing"

// Scenario is one named subtest over peers P that several scenarios share.
type Scenario[P any] struct {
	Name string
	Run  func(t *testing.T, p P)
}

// RunParallel runs every scenario as a parallel subtest of t with p.
func RunParallel[P any](t *testing.T, p P, scenarios []Scenario[P]) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			sc.Run(t, p)
		})
	}
}

// Closed reports whether ch is closed (or has a value ready), without
// waiting.
func Closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
