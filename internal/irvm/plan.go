// Package irvm evaluates Rego through OPA's own query plan.
//
// OPA's planner (the one behind `opa build -t plan` and the Wasm target)
// turns a query and the modules it reaches into an imperative program: blocks
// of statements over numbered locals, loops, calls. The planner decides what
// the policy means; this package only runs its plan, over OPA's own values
// and with OPA's own built-in functions, so there is no second reading of
// Rego here, and none of the unification, bindings and backtracking that
// make OPA's tree-walking evaluator cost 30-60 µs for a rule that compares a
// few strings.
//
// The plan is had through OPA's extension point for evaluation targets
// (rego.Target and rego.RegisterPlugin): this package registers a target
// whose preparation hands the plan back to the caller instead of running it.
package irvm

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// target is the name rego.Target knows this package's plugin by.
const target = "trailguard-irvm"

func init() { rego.RegisterPlugin(target, capture{}) }

// capture is the target plugin: its preparation stores the plan where the
// context given to PrepareForEval says, and evaluates nothing itself.
type capture struct{}

type slotKey struct{}

func (capture) IsTarget(t string) bool { return t == target }

func (capture) PrepareForEval(ctx context.Context, p *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	slot, ok := ctx.Value(slotKey{}).(**ir.Policy)
	if !ok {
		return nil, errors.New("irvm: the plan target is only for irvm.Plan")
	}
	*slot = p
	return noEval{}, nil
}

type noEval struct{}

func (noEval) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("irvm: a plan is run with Program.Eval, not through rego")
}

// Plan plans query over the modules compiled in c (store holds the data
// documents the compiler checks references against) and compiles the plan for
// Eval. A plan this package cannot run (a `with` statement, a built-in
// function OPA's evaluator does not provide) is an error: run that query with
// OPA's evaluator instead.
func Plan(ctx context.Context, c *ast.Compiler, store storage.Store, query string) (*Program, error) {
	var policy *ir.Policy
	_, err := rego.New(
		rego.Query(query),
		rego.Compiler(c),
		rego.Store(store),
		rego.Target(target),
	).PrepareForEval(context.WithValue(ctx, slotKey{}, &policy))
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", query, err)
	}
	if policy == nil {
		return nil, fmt.Errorf("planning %s: OPA planned nothing", query)
	}
	return compile(policy)
}
