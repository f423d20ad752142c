package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/irvm"
)

// Evaluators: the engine runs each candidate rule through OPA's query plan
// (internal/irvm) and falls back to OPA's evaluator (topdown) for a rule the
// plan cannot run, and for a record whose evaluation failed, where the
// per-rule slow path then says which rule broke. Both evaluate the same
// compiled modules; TestPlanEvaluatorAgrees holds their alerts equal.
const (
	EvaluatorPlan    = "plan"
	EvaluatorTopdown = "topdown"
)

// WithEvaluator chooses how rules are evaluated: EvaluatorPlan (the default)
// or EvaluatorTopdown, OPA's evaluator for everything.
func WithEvaluator(name string) Option {
	return func(o *options) { o.evaluator = name }
}

// Fallbacks counts the records the plan evaluator handed to OPA's evaluator:
// a candidate rule without a plan, or a plan evaluation that failed (OPA's
// evaluator then names the failing rule). Give every engine of a Reloader the
// same one, so that the count survives reloads; the daemon exports it as
// trailguard_plan_fallbacks_total.
type Fallbacks struct{ n atomic.Int64 }

// Count is how many records fell back so far.
func (f *Fallbacks) Count() int64 { return f.n.Load() }

// WithFallbacks has the engine count its fallbacks in f.
func WithFallbacks(f *Fallbacks) Option {
	return func(o *options) { o.fallbacks = f }
}

// planned is one rule's plan, made the first time a record is a candidate
// for the rule, and the answers it remembers (memo.go) when the plan is pure.
type planned struct {
	rule *Rule // the rule, found once rather than by key for each record
	once sync.Once
	prog *irvm.Program
	err  error
	memo *ruleMemo
}

// planFor is rule key's plan (nil prog when the plan cannot run it: the
// reason is kept for Engine.PlanErrors).
func (e *Engine) planFor(key [2]string) *planned {
	p := e.plans[key]
	if p == nil {
		return nil
	}
	p.once.Do(func() {
		q := fmt.Sprintf("data.rules[%q][%q].alert[result]", key[0], key[1])
		p.prog, p.err = e.plan(context.Background(), q)
		if p.prog != nil && p.prog.Pure() && e.memos {
			p.memo = new(ruleMemo)
		}
	})
	return p
}

// plansFor is the plans of keys, the rules of set (nil: every rule), or nil
// when one of them has none. A set keeps its plans.
func (e *Engine) plansFor(set *ruleSet, keys [][2]string) []*planned {
	find := func() []*planned {
		plans := make([]*planned, len(keys))
		for i, k := range keys {
			if plans[i] = e.planFor(k); plans[i] == nil || plans[i].prog == nil {
				return nil
			}
		}
		return plans
	}
	if set == nil {
		return find()
	}
	set.plansOnce.Do(func() { set.plans = find() })
	return set.plans
}

// PlanAll plans every rule now (they are otherwise planned when a record
// first is a candidate for them) and returns PlanErrors: `trailguard
// validate` says which rules will run on OPA's evaluator, and why.
func (e *Engine) PlanAll() map[string]error {
	for _, k := range e.allKeys {
		e.planFor(k)
	}
	return e.PlanErrors()
}

// PlanErrors lists the rules evaluated so far that the plan evaluator could
// not run, and why; OPA's evaluator runs them.
func (e *Engine) PlanErrors() map[string]error {
	out := map[string]error{}
	for k, p := range e.plans {
		if p.prog == nil && p.err != nil {
			out[e.rules[k].ID] = p.err
		}
	}
	return out
}

// evalPlan evaluates keys' rules on in through their plans, appending their
// alerts to dst (AppendAlerts). ok is false when a rule has no plan or an
// evaluation failed: the caller then evaluates the record with OPA's
// evaluator, which reports failures rule by rule.
func (e *Engine) evalPlan(ctx context.Context, in *Input, set *ruleSet, dst []alert.Alert) (alerts []alert.Alert, ok bool, err error) {
	alerts = dst
	keys := e.allKeys
	if set != nil {
		keys = set.Rules
	}
	plans := e.plansFor(set, keys)
	if plans == nil {
		return nil, false, nil
	}
	// The plan evaluator watches ctx itself; a Cancel is needed only for
	// the budget.
	var c topdown.Cancel
	timedOut := new(atomic.Bool)
	if e.evalTimeout > 0 {
		c = topdown.NewCancel()
		var stop func()
		timedOut, stop = e.budget(c)
		defer stop()
	}
	var input *ast.Term
	if in.lazy != nil {
		input = &in.lazy.in.term
	} else {
		input = ast.NewTerm(in.Value)
	}
	for _, p := range plans {
		rule := p.rule
		if p.memo == nil || in.lazy == nil || p.memo.off() {
			var err error
			if alerts, err = e.evalRule(ctx, p, input, c, in, rule, alerts); err != nil {
				return nil, false, planFailed(ctx, timedOut, err)
			}
			continue
		}
		if n, ok := p.memo.answer(in.lazy); ok {
			if memoHit != nil {
				memoHit()
			}
			// The remembered fields go to each alert as they are: an
			// alert's Fields are read only (alert.Alert.Fields).
			for _, r := range n.results {
				var err error
				if alerts, err = e.appendAlert(alerts, in, rule, r); err != nil {
					return nil, false, nil
				}
			}
			continue
		}
		var err error
		if p.memo.full.Load() {
			alerts, err = e.evalRule(ctx, p, input, c, in, rule, alerts)
		} else {
			alerts, err = e.evalRemembered(ctx, p, input, c, in, rule, alerts)
		}
		if err != nil {
			return nil, false, planFailed(ctx, timedOut, err)
		}
	}
	return alerts, true, nil
}

// evalRule appends to alerts those of rule, whose plan is p, for in.
func (e *Engine) evalRule(ctx context.Context, p *planned, input *ast.Term, c topdown.Cancel, in *Input, rule *Rule, alerts []alert.Alert) ([]alert.Alert, error) {
	err := evalResults(ctx, p, input, e.dataTerm, c, func(r result) error {
		var err error
		alerts, err = e.appendAlert(alerts, in, rule, r)
		return err
	})
	return alerts, err
}

// evalRemembered is evalRule noting what the rule reads of the record, and
// remembering its answer by those values (memo.go) when they are all it saw.
func (e *Engine) evalRemembered(ctx context.Context, p *planned, input *ast.Term, c topdown.Cancel, in *Input, rule *Rule, alerts []alert.Alert) ([]alert.Alert, error) {
	rec := recorders.Get().(*recorder)
	in.lazy.in.rec = rec
	var results []result
	err := evalResults(ctx, p, input, e.dataTerm, c, func(r result) error {
		results = append(results, r)
		return nil
	})
	in.lazy.in.rec = nil
	if err == nil && !rec.whole {
		p.memo.insert(rec.reads, results)
	}
	clear(rec.reads)
	clear(rec.objs)
	rec.reads, rec.objs, rec.whole = rec.reads[:0], rec.objs[:0], false
	recorders.Put(rec)
	if err != nil {
		return alerts, err
	}
	for _, r := range results { // r.fields shared with the memo: read only
		if alerts, err = e.appendAlert(alerts, in, rule, r); err != nil {
			return alerts, err
		}
	}
	return alerts, nil
}

// evalResults calls each with every alert object of p's rule for input: the
// values of the query's variable `result`, taken as the plan makes them (no
// object of the query's variables is made per alert).
func evalResults(ctx context.Context, p *planned, input, data *ast.Term, c topdown.Cancel, each func(result) error) error {
	return p.prog.EvalVar(ctx, input, data, resultVar, irvm.Options{Cancel: c}, func(res *ast.Term) error {
		r, err := resultOfValue(res.Value)
		if err != nil {
			return errBadAlert
		}
		return each(r)
	})
}

// appendAlert appends rule's alert for the object r it reported for in; the
// alert is filled where it lies (an alert is a large struct).
func (e *Engine) appendAlert(alerts []alert.Alert, in *Input, rule *Rule, r result) ([]alert.Alert, error) {
	alerts = append(alerts, alert.Alert{})
	if err := e.fillAlert(&alerts[len(alerts)-1], in, rule, r); err != nil {
		return alerts, errBadAlert
	}
	return alerts, nil
}

// memoHit, when set (by a test), is called for each answer a memo gives.
var memoHit func()

// errBadAlert says that a rule reported an alert object the plan evaluator
// does not take: OPA's evaluator then reads the record again, and says why.
var errBadAlert = errors.New("an alert object the plan evaluator does not take")

// planFailed is what evalPlan returns for an evaluation that failed with
// err: ctx's error, errPlanBudget, or nil (OPA's evaluator takes the record
// over).
func planFailed(ctx context.Context, timedOut *atomic.Bool, err error) error {
	switch {
	case errors.Is(err, errBadAlert):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case timedOut.Load():
		// Out of budget: straight to the rule-by-rule evaluation
		// (each rule its own budget), which names the slow rule,
		// rather than the whole record on OPA's evaluator again.
		return errPlanBudget
	}
	return nil
}

// resultVar is the variable of the rules' queries that holds an alert.
const resultVar = "result"

// errPlanBudget says that a plan evaluation ran out of the record's budget.
var errPlanBudget = errors.New("the plan evaluation ran out of the record's budget")

// resultOfValue reads an alert object from a plan as resultOfMap reads its
// JSON form, without making that form (a map, and an interface value for
// each member: a quarter of an alert's allocations). Strings are read as
// they are; other values of extra keys are converted as OPA's evaluator
// would have, and an object with a key that is not a string takes the
// long way, as rare as it is.
func resultOfValue(v ast.Value) (result, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return result{}, fmt.Errorf("alert must be an object with a message, got %v", ast.ValueName(v))
	}
	if obj.Len() == 0 {
		return result{}, nil // a rule that leaves its message to METADATA, as Sigma's do
	}
	var r result
	var err error
	long := false
	obj.Foreach(func(k, v *ast.Term) {
		key, isStr := k.Value.(ast.String)
		if !isStr {
			long = true
			return
		}
		s, vStr := v.Value.(ast.String)
		switch key {
		case "message":
			r.message = string(s)
		case "severity":
			r.severity, r.hasSeverity = string(s), vStr
		case "dedup_key":
			r.dedupKey = string(s)
		default:
			if _, null := v.Value.(ast.Null); null {
				return
			}
			if r.fields == nil {
				r.fields = map[string]string{}
			}
			if vStr {
				r.fields[string(key)] = string(s)
				return
			}
			j, jerr := ast.JSON(v.Value)
			if jerr != nil {
				err = jerr
				return
			}
			r.fields[string(key)] = fmt.Sprint(j)
		}
	})
	if long {
		j, jerr := ast.JSON(obj)
		if jerr != nil {
			return result{}, fmt.Errorf("alert object: %w", jerr)
		}
		m, isMap := j.(map[string]any)
		if !isMap {
			return result{}, fmt.Errorf("alert object: got %T", j)
		}
		return resultOfMap(m), nil
	}
	return r, err
}
