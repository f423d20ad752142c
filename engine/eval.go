package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// Input is one record made ready for evaluation: decoded once, into the form
// OPA evaluates, however many rules look at it, or not decoded at all when no
// rule can match it.
type Input struct {
	Record cloudtrail.Record
	// Value is the decoded record; nil when DecodeRecord found that no rule can
	// match it.
	Value ast.Object
	// source and time are the JSON texts of eventSource and eventTime, as
	// the prefilter read them, for a record no rule can match (Value and
	// lazy nil).
	source, time []byte
	pf           *prefilter
	// rules are the only rules that can match the record, when the prefilter
	// read it (nil: evaluate every rule).
	rules *ruleSet
	// partial says that Value holds only the keys rules.keep names: only
	// those rules of this engine may evaluate it.
	partial bool
	// lazy is the record, decoded as far as it is read, for the plan
	// evaluator; Value is then decoded only if OPA's evaluator needs it.
	lazy *lazyObject
	// pooled is what Release gives back, for an Input it can.
	pooled *recordInput
}

// decode decodes what the candidate rules read of a lazily read record, for
// OPA's evaluator.
func (in *Input) decode() error {
	if in.rules == nil || in.rules.keep == nil {
		full, err := Parse(in.Record)
		if err != nil {
			return err
		}
		in.Value, in.partial = full.Value, false
		return nil
	}
	v, err := decodeKeys(in.Record.Raw, in.rules.keep)
	if err != nil {
		return cloudtrail.RecordError(in.Record, err)
	}
	in.Value = v
	return nil
}

// Skipped says that DecodeRecord found that no rule can match the record.
func (in *Input) Skipped() bool { return in.Value == nil && in.lazy == nil }

// event is the record as the alert reads it.
func (in *Input) event() event {
	if in.lazy != nil {
		return in.lazy
	}
	return in.Value
}

// lazyRecords is off only in BenchmarkEvaluators, which compares.
var lazyRecords = true

// DecodeRecord decodes what this engine's rules need of a record. It reads
// the few fields the rules are indexed on (eventSource, eventName, …) and
// decodes the whole record only when some rule may match it. Either way the
// record's JSON is checked, once: an invalid record's error is the
// *cloudtrail.DecodeError the log reader reports for it.
//
// The engine keeps rec.Raw, without a copy: the alerts of the record hold it
// (alert.Alert.Raw) and their event fields are parts of it. The caller must
// not change its bytes afterwards; the log reader makes them for one record.
func (e *Engine) DecodeRecord(rec cloudtrail.Record) (*Input, error) {
	if e.pre == nil {
		return Parse(rec)
	}
	vals, err := e.pre.extract(rec.Raw)
	if err != nil {
		return nil, cloudtrail.RecordError(rec, err)
	}
	if vals == nil {
		return Parse(rec) // not an object: Parse says so
	}
	set, err := e.pre.candidates(vals)
	lazy := err == nil && set != nil && e.plans != nil && lazyRecords
	var in *Input
	switch {
	case lazy:
		// The plans read the record member by member (lazy.go); OPA's
		// evaluator, if it is needed, has it decoded then.
		in = newLazyInput(rec, vals.top, vals.nested)
		in.rules, in.pf = set, e.pre
	case err == nil && set == nil:
		in = &newRecordInput().in
		in.Record = rec
		in.source, in.time = vals.fields[e.pre.srcID].raw, vals.fields[e.pre.timeID].raw
	}
	vals.takeTop(false)
	vals.release()
	if in != nil {
		return in, nil
	}
	if err != nil || set.keep == nil {
		in, perr := Parse(rec)
		if perr == nil && err == nil {
			in.rules, in.pf = set, e.pre
		}
		return in, perr
	}
	// Only what the candidate rules and the engine read (inputkeys.go); the
	// record's JSON was checked whole by extract.
	v, perr := decodeKeys(rec.Raw, set.keep)
	if perr != nil {
		return nil, cloudtrail.RecordError(rec, perr)
	}
	return &Input{Record: rec, Value: v, rules: set, pf: e.pre, partial: true}, nil
}

// Parse decodes a whole record for evaluation. An invalid record's error is
// the *cloudtrail.DecodeError the log reader reports for it.
func Parse(rec cloudtrail.Record) (*Input, error) {
	v, err := decodeJSON(rec.Raw)
	if err != nil {
		return nil, cloudtrail.RecordError(rec, err)
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("%s: record %d: not a JSON object", rec.Source, rec.Index)
	}
	return &Input{Record: rec, Value: obj}, nil
}

// EvalError says that evaluating a record failed. Alerts from the evaluation, if
// any, are still returned beside it.
type EvalError struct {
	Source string
	Index  int
	Err    error
	// TimedOut are the ids of the rules cut short by the evaluation budget
	// (WithEvalTimeout); the other rules' alerts were still produced.
	TimedOut []string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("%s: record %d: evaluation: %v", e.Source, e.Index, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// Evaluate runs every rule against one record.
func (e *Engine) Evaluate(ctx context.Context, rec cloudtrail.Record) ([]alert.Alert, error) {
	in, err := e.DecodeRecord(rec)
	if err != nil {
		return nil, err
	}
	defer in.Release()
	return e.EvaluateInput(ctx, in)
}

// EvaluateInput runs every rule against a parsed record. An error in one rule's
// evaluation is reported as an *EvalError without hiding the other rules' alerts.
func (e *Engine) EvaluateInput(ctx context.Context, in *Input) ([]alert.Alert, error) {
	return e.AppendAlerts(ctx, nil, in)
}

// AppendAlerts is EvaluateInput appending the record's alerts to dst, and
// writing them in place when dst has room: a caller done with the alerts of
// an earlier record gives their slice back (dst[:0]) rather than have the
// engine allocate another (pipeline.Handler.Borrows). An alert is a large
// struct, and a noisy rule makes one for every other record.
func (e *Engine) AppendAlerts(ctx context.Context, dst []alert.Alert, in *Input) ([]alert.Alert, error) {
	alerts, err := e.evaluate(ctx, dst, in)
	if alerts == nil {
		alerts = dst
	}
	return alerts, err
}

// evaluate is AppendAlerts; its answer, when not nil, begins with dst.
func (e *Engine) evaluate(ctx context.Context, dst []alert.Alert, in *Input) ([]alert.Alert, error) {
	if in.Skipped() {
		return nil, nil
	}
	if in.partial && in.pf != e.pre {
		// Decoded for another engine's rules (a reload in between): this
		// engine evaluates every rule, on the whole record.
		full, err := Parse(in.Record)
		if err != nil {
			return nil, err
		}
		in = full
	}
	if e.plans != nil {
		var set *ruleSet
		if in.rules != nil && in.pf == e.pre {
			set = in.rules
		}
		alerts, ok, err := e.evalPlan(ctx, in, set, dst)
		budget := errors.Is(err, errPlanBudget)
		switch {
		case ok:
			return alerts, nil
		case err != nil && !budget:
			return nil, err // the caller's context ended
		}
		e.fallbacks.n.Add(1)
		if budget {
			alerts, err := e.evaluateEachRule(ctx, in, errors.Join(ErrEvalTimeout, err))
			return append(dst, alerts...), err
		}
	}
	pq := e.prepared
	// The candidate rules are this engine's only if this engine decoded the
	// record (after a reload, the new engine evaluates every rule). Their
	// query is prepared here, on the first record OPA's evaluator takes for
	// them, not on the first of the set: the plans take nearly every record,
	// and a prepared query is OPA's compilation of it, kept for the set's life.
	if in.rules != nil && in.pf == e.pre {
		if q, err := e.queryFor(in.rules); err == nil {
			pq = q
		}
	}
	if in.Value == nil {
		if err := in.decode(); err != nil {
			return nil, err
		}
	}
	rs, err := e.eval(ctx, pq, in.Value)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A rule raised an error or ran out of the budget: find which, and
		// keep the others' alerts.
		alerts, err := e.evaluateEachRule(ctx, in, err)
		return append(dst, alerts...), err
	}
	alerts := dst
	var errs []error
	for _, r := range rs {
		a, err := e.toAlert(in, r.Bindings)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		alerts = append(alerts, a)
	}
	if len(errs) > 0 {
		return alerts, &EvalError{Source: in.Record.Source, Index: in.Record.Index, Err: errors.Join(errs...)}
	}
	return alerts, nil
}

// evaluateEachRule is the slow path after the one query failed (a rule raised a
// conflict or a runtime error, or the budget ran out): evaluate rule by rule,
// each within its own budget, so that one broken or slow rule costs only its
// own alerts, and say which rule broke.
func (e *Engine) evaluateEachRule(ctx context.Context, in *Input, first error) ([]alert.Alert, error) {
	e.perRuleOnce.Do(e.preparePerRule)
	if in.partial {
		// Every rule is evaluated here, not only those the record was
		// decoded for.
		full, err := Parse(in.Record)
		if err != nil {
			return nil, err
		}
		in = full
	}
	if e.perRuleErr != nil {
		return nil, &EvalError{Source: in.Record.Source, Index: in.Record.Index, Err: errors.Join(first, e.perRuleErr)}
	}
	var alerts []alert.Alert
	var errs []error
	var timedOut []string
	for _, pr := range e.perRule {
		rs, err := e.eval(ctx, pr.query, in.Value)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			id := e.rules[pr.key].ID
			if errors.Is(err, ErrEvalTimeout) {
				timedOut = append(timedOut, id)
				err = fmt.Errorf("%w (%s): cancelled, the record's other rules evaluated without it", ErrEvalTimeout, e.evalTimeout)
			}
			errs = append(errs, fmt.Errorf("rule %s: %w", id, err))
			continue
		}
		for _, r := range rs {
			r.Bindings["pack"], r.Bindings["name"] = pr.key[0], pr.key[1]
			a, err := e.toAlert(in, r.Bindings)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			alerts = append(alerts, a)
		}
	}
	if len(errs) == 0 {
		// Every rule passed on its own; report what failed together.
		errs = append(errs, first)
	}
	return alerts, &EvalError{Source: in.Record.Source, Index: in.Record.Index, Err: errors.Join(errs...), TimedOut: timedOut}
}

// queryFor is the query over only the rules in set, prepared the first time
// it is asked for. It binds pack, name and result as the query over every rule
// does, and gives the same alerts for the records set was found for; but it
// looks each rule up directly, where the query over every rule walks them all
// and consults each one's index (about 20 µs of the 24 rules' evaluation).
func (e *Engine) queryFor(set *ruleSet) (rego.PreparedEvalQuery, error) {
	set.once.Do(func() {
		var pairs []string
		for _, r := range set.Rules {
			pairs = append(pairs, fmt.Sprintf("[%q, %q]", r[0], r[1]))
		}
		q := fmt.Sprintf("some [pack, name] in [%s]; %s", strings.Join(pairs, ", "), query)
		set.query, set.err = e.prepare(context.Background(), q)
	})
	return set.query, set.err
}

type ruleQuery struct {
	key   [2]string
	query rego.PreparedEvalQuery
}

func (e *Engine) preparePerRule() {
	for _, r := range e.ordered {
		key := e.keyOf[r]
		pq, err := e.prepare(context.Background(), fmt.Sprintf("data.rules[%q][%q].alert[result]", key[0], key[1]))
		if err != nil {
			e.perRuleErr = err
			return
		}
		e.perRule = append(e.perRule, ruleQuery{key: key, query: pq})
	}
}

func (e *Engine) toAlert(in *Input, b rego.Vars) (alert.Alert, error) {
	pack, _ := b["pack"].(string)
	name, _ := b["name"].(string)
	rule := e.rules[[2]string{pack, name}]
	if rule == nil {
		return alert.Alert{}, fmt.Errorf("rules.%s.%s reported an alert but has no METADATA", pack, name)
	}
	res, ok := b["result"].(map[string]any)
	if !ok {
		return alert.Alert{}, fmt.Errorf("rule %s: alert must be an object with a message, got %T", rule.ID, b["result"])
	}
	var a alert.Alert
	err := e.fillAlert(&a, in, rule, resultOfMap(res))
	return a, err
}

// result is what the engine reads of a rule's alert object: the keys it
// knows, and the others as strings (alert.Alert.Fields).
type result struct {
	message     string
	severity    string
	hasSeverity bool
	dedupKey    string
	fields      map[string]string
}

// resultOfMap reads an alert object as OPA's evaluator returns it.
func resultOfMap(res map[string]any) result {
	r := result{fields: extraFields(res)}
	r.message, _ = res["message"].(string)
	r.severity, r.hasSeverity = res["severity"].(string)
	r.dedupKey, _ = res["dedup_key"].(string)
	return r
}

// fillAlert writes into a, which is zero, rule's alert from the object res it
// reported for in. The plan evaluator has it write into the slice it returns:
// an alert is a large struct, and copying it is a tenth of its cost.
func (e *Engine) fillAlert(a *alert.Alert, in *Input, rule *Rule, res result) error {
	if res.message == "" && rule.message == nil {
		return fmt.Errorf("rule %s: alert has no message (and METADATA has no custom.message)", rule.ID)
	}
	a.RuleID, a.Title, a.Severity, a.Description = rule.ID, rule.Title, rule.Severity, rule.Description
	a.Message, a.Tags, a.Runbook, a.References, a.Attack = res.message, rule.Tags, rule.Runbook, rule.References, rule.Attack
	a.Origin, a.Raw = in.Record.Source, in.Record.Raw
	a.DedupKey, a.Fields, a.Stateful = res.dedupKey, res.fields, rule.Stateful
	if res.hasSeverity {
		sev, err := alert.ParseSeverity(res.severity)
		if err != nil {
			return fmt.Errorf("rule %s: %w", rule.ID, err)
		}
		a.Severity = sev
	}
	v := fillEventFields(a, in.event())
	if a.Message == "" {
		m, err := rule.message.render(rule, v)
		if err != nil {
			return err
		}
		a.Message = m
	}
	return nil
}

// fillEventFields copies what people need to read an alert from the record,
// and returns the record as the alert's message reads it.
func fillEventFields(a *alert.Alert, ev event) recordView {
	if l, ok := ev.(*lazyObject); ok {
		if plain, noError := fillLazyEventFields(a, l); plain {
			return recordView{ev: ev, fields: a, noError: noError}
		}
	}
	a.EventID = str(ev, "eventID")
	a.EventTime = str(ev, "eventTime")
	a.EventSource = str(ev, "eventSource")
	a.EventName = str(ev, "eventName")
	a.Region = str(ev, "awsRegion")
	a.AccountID = str(ev, "recipientAccountId")
	a.SourceIP = str(ev, "sourceIPAddress")
	a.UserAgent = str(ev, "userAgent")
	a.ErrorCode = str(ev, "errorCode")
	a.IdentityType = str(ev, "userIdentity", "type")
	a.Principal = str(ev, "userIdentity", "arn")
	if a.Principal == "" {
		a.Principal = a.IdentityType
	}
	if a.AccountID == "" {
		a.AccountID = str(ev, "userIdentity", "accountId")
	}
	return recordView{ev: ev, fields: a}
}

// event is a record as the alert reads it: decoded (an ast.Object), or
// decoded as far as it is read (a *lazyObject).
type event = ast.Value

// at is the value at path in v, nil when there is none.
func at(v ast.Value, path ...string) ast.Value {
	for _, k := range path {
		var t *ast.Term
		switch o := v.(type) {
		case *lazyObject:
			t = o.member(k)
		case ast.Object:
			key, ok := commonKeys[k] // shared terms: no allocation per lookup
			if !ok {
				key = ast.StringTerm(k)
			}
			t = o.Get(key)
		}
		if t == nil {
			return nil
		}
		v = t.Value
	}
	return v
}

// str is the string at path, "" when there is none.
func str(ev event, path ...string) string {
	if l, ok := ev.(*lazyObject); ok {
		return l.text(path...)
	}
	if s, ok := at(ev, path...).(ast.String); ok {
		return string(s)
	}
	return ""
}

// plainValue is v, made whole if it is a lazyObject.
func plainValue(v ast.Value) ast.Value {
	if l, ok := v.(*lazyObject); ok {
		return l.Whole()
	}
	return v
}

// EventSource is the record's eventSource, e.g. opsworks-cm.amazonaws.com.
func (in *Input) EventSource() string { return in.field("eventSource") }

// EventTime is the record's eventTime as written (RFC 3339).
func (in *Input) EventTime() string { return in.field("eventTime") }

// field is a top-level string field; the prefilter reads eventSource and
// eventTime from every record it does not decode.
func (in *Input) field(key string) string {
	switch {
	case in.lazy != nil:
		return str(in.lazy, key)
	case in.Value != nil:
		return str(in.Value, key)
	case key == "eventSource":
		return stringText(in.source)
	case key == "eventTime":
		return stringText(in.time)
	}
	return ""
}

// stringText is the string whose JSON text is text, "" when it is not one.
func stringText(text []byte) string {
	if len(text) == 0 || text[0] != '"' {
		return ""
	}
	s := jsonscan.New(text)
	if str, ok := s.ReadString(); ok {
		return str.String()
	}
	return ""
}
