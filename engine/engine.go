// Package engine compiles Rego policies once and evaluates CloudTrail records
// against all of them with one prepared query, turning results and the rules'
// METADATA into alerts.
package engine

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/attack"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/irvm"
	"github.com/trailguard/trailguard/rules"
)

// Rule is what the engine knows of one rule, from its METADATA block.
type Rule struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Severity    alert.Severity `json:"severity"`
	Tags        []string       `json:"tags,omitempty"`
	Runbook     string         `json:"runbook,omitempty"`
	References  []string       `json:"references,omitempty"`
	// Attack places the rule in MITRE ATT&CK (METADATA custom.attack), checked
	// against the table trailguard ships.
	Attack  []attack.Mapping `json:"attack,omitempty"`
	Pack    string           `json:"pack"`    // e.g. opsworkscm
	Package string           `json:"package"` // e.g. rules.opsworkscm.root_credentials
	File    string           `json:"file"`
	// Stateful is the rule's custom.threshold / new_value / sequence / signal
	// declaration (see stateful.go); nil for a per-event rule.
	Stateful *alert.Stateful `json:"-"`
	// message is METADATA custom.message (message.go); nil when the rule's
	// alert objects carry their message.
	message *messageTemplate
}

type options struct {
	fsys      fs.FS
	packs     []string
	paths     []string
	dataFiles []string
	sigma     []string
	data      map[string]any

	evalTimeout time.Duration
	overruns    *Overruns
	evaluator   string
	fallbacks   *Fallbacks
	noMemos     bool
}

// Option configures New.
type Option func(*options)

// WithMemos turns the plan evaluator's memory of rules' answers (memo.go) on
// (the default) or off: off, every candidate rule is evaluated on every
// record, as TestMemoAgrees compares.
func WithMemos(on bool) Option {
	return func(o *options) { o.noMemos = !on }
}

// WithPacks chooses the built-in packs to load by name; the default is all of
// them, and no names means none.
func WithPacks(names ...string) Option {
	return func(o *options) { o.packs = append([]string{}, names...) }
}

// WithPolicyPaths adds directories or files of .rego policies and data documents,
// read as `opa eval -d` reads them. Files ending in _test.rego are left out.
func WithPolicyPaths(paths ...string) Option {
	return func(o *options) { o.paths = append(o.paths, paths...) }
}

// WithDataFiles adds JSON or YAML documents merged at the root of data.
func WithDataFiles(paths ...string) Option {
	return func(o *options) { o.dataFiles = append(o.dataFiles, paths...) }
}

// WithData merges a document at the root of data (the configuration's rules.data).
func WithData(doc map[string]any) Option {
	return func(o *options) { o.data = doc }
}

// WithEmbeddedFS replaces the built-in packs' file system (for tests).
func WithEmbeddedFS(fsys fs.FS) Option {
	return func(o *options) { o.fsys = fsys }
}

func newOptions(opts []Option) *options {
	o := &options{fsys: rules.FS, packs: rules.Packs()}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// query evaluates every rule at once: one prepared query over all of them is
// several times faster than one query per rule, and OPA's rule index still
// skips the rules whose eventSource or eventName cannot match.
const query = "data.rules[pack][name].alert[result]"

// Engine is one compiled, immutable rule set. It is safe for concurrent use.
type Engine struct {
	policies
	prepared rego.PreparedEvalQuery
	rules    map[[2]string]*Rule // by package path after "rules."
	keyOf    map[*Rule][2]string
	ordered  []*Rule
	warnings []string
	notes    []string

	// One query per rule, prepared on first need: only used to tell which rule
	// broke when the query over all of them fails.
	// pre skips the decoding and evaluation of records no rule can match; nil
	// when the rules' indices cannot be read that way.
	pre *prefilter

	perRuleOnce sync.Once
	perRule     []ruleQuery
	perRuleErr  error

	// evalTimeout is each record's budget (0: none); overruns, if set,
	// counts evaluations stuck past it (see budget.go).
	evalTimeout time.Duration
	overruns    *Overruns

	// plans are the rules' query plans (plan.go), made on first need; nil
	// when every rule runs on OPA's evaluator. data is the data document,
	// for the plans.
	plans    map[[2]string]*planned
	dataTerm *ast.Term
	memos    bool // plans remember answers (memo.go)
	allKeys  [][2]string
	// fallbacks counts the records the plans handed to OPA's evaluator
	// (WithFallbacks shares it across engines).
	fallbacks *Fallbacks
}

// New loads and compiles policies. Errors in policies come back as a
// *PolicyError listing each problem with file:row:col.
func New(ctx context.Context, opts ...Option) (*Engine, error) {
	o := newOptions(opts)
	set, err := load(o, false)
	if err != nil {
		return nil, err
	}
	if err := checkKnownNetworks(set.data); err != nil {
		return nil, err
	}
	e := &Engine{policies: newPolicies(set), rules: map[[2]string]*Rule{}, keyOf: map[*Rule][2]string{}, notes: set.notes,
		evalTimeout: o.evalTimeout, overruns: o.overruns, fallbacks: cmp.Or(o.fallbacks, &Fallbacks{})}
	if e.compiler.Compile(set.modules); e.compiler.Failed() {
		return nil, policyErrorFrom(e.compiler.Errors)
	}
	if err := e.readMetadata(e.compiler, set.modules); err != nil {
		return nil, err
	}
	if slices.Contains(o.packs, "opsworkscm") && !hasNetworks(set.data) {
		// Not a warning any more: the learning rule covers the same ground.
		e.notes = append(e.notes, "data.known_networks is not set: opsworkscm.unknown_source_ip is off, and "+
			"opsworkscm.new_source_network learns each account's source networks instead (its first 7 days of events silently)")
	}
	pq, err := e.prepare(ctx, query)
	if err != nil {
		return nil, policyErrorFrom(err)
	}
	e.prepared = pq
	keys := make([][2]string, 0, len(e.ordered))
	for _, r := range e.ordered {
		keys = append(keys, e.keyOf[r])
	}
	e.pre = newPrefilter(e.compiler, keys, set.guards)
	e.allKeys = keys
	switch o.evaluator {
	case "", EvaluatorPlan:
		data, err := ast.InterfaceToValue(set.data)
		if err != nil {
			return nil, fmt.Errorf("data documents: %w", err)
		}
		e.dataTerm = ast.NewTerm(data)
		e.memos = !o.noMemos
		e.plans = make(map[[2]string]*planned, len(keys))
		for _, k := range keys {
			e.plans[k] = &planned{rule: e.rules[k]}
		}
	case EvaluatorTopdown:
	default:
		return nil, fmt.Errorf("unknown evaluator %q (%s or %s)", o.evaluator, EvaluatorPlan, EvaluatorTopdown)
	}
	return e, nil
}

// policies are the compiled rules and their data, and how every evaluation of
// them is set up: the serving query, the per-rule queries after a failure and
// the Rego tests all go through here, so they cannot drift apart.
type policies struct {
	compiler *ast.Compiler
	store    storage.Store
	// mu serialises the preparations of queries, made lazily from the
	// evaluating goroutines: OPA's rego.New writes the compiler's evaluation
	// mode (a target plugin sets it to IR), which a preparation reads.
	mu *sync.Mutex
}

func newPolicies(set *policySet) policies {
	// Strict: unused variables and imports, shadowed names, are errors.
	return policies{compiler: ast.NewCompiler().WithStrict(true), store: inmem.NewFromObject(set.data), mu: &sync.Mutex{}}
}

// strictBuiltins is on everywhere: a builtin that fails (net.cidr_contains on a
// non-IP, time parsing) would otherwise make a rule quietly not fire, or a test
// quietly pass; a security rule that cannot decide must say so.
const strictBuiltins = true

// prepare prepares a query over the compiled policies.
func (p policies) prepare(ctx context.Context, q string) (rego.PreparedEvalQuery, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return rego.New(
		rego.Query(q),
		rego.Compiler(p.compiler),
		rego.Store(p.store),
		rego.StrictBuiltinErrors(strictBuiltins),
	).PrepareForEval(ctx)
}

// plan plans q for the plan evaluator (plan.go), under the same lock as
// prepare, and leaves the compiler in the mode OPA's evaluator prepares in.
func (p policies) plan(ctx context.Context, q string) (*irvm.Program, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.compiler.WithEvalMode(ast.EvalModeTopdown)
	return irvm.Plan(ctx, p.compiler, p.store, q)
}

// testRunner is OPA's test runner over the policies, which compiles them itself.
func (p policies) testRunner() *tester.Runner {
	return tester.NewRunner().
		SetCompiler(p.compiler).
		SetStore(p.store).
		RaiseBuiltinErrors(strictBuiltins)
}

// checkKnownNetworks refuses a data.known_networks that is not a list of CIDR
// blocks, wherever it came from (configuration, data files, policy
// directories). The shared helpers rely on it: they hand each entry to
// net.cidr_contains without re-validating it for every event, and a typo there
// would otherwise fail every evaluation, or, skipped quietly, make every call
// from that network look unknown.
func checkKnownNetworks(data map[string]any) error {
	kn, ok := data["known_networks"]
	if !ok || kn == nil {
		return nil
	}
	list, ok := kn.([]any)
	if !ok {
		return &PolicyError{Problems: []Problem{{Message: fmt.Sprintf("data.known_networks: expected a list of CIDR blocks such as 203.0.113.0/24, got %T", kn)}}}
	}
	var problems []Problem
	for i, n := range list {
		s, _ := n.(string)
		if _, err := netip.ParsePrefix(s); err != nil {
			problems = append(problems, Problem{Message: fmt.Sprintf("data.known_networks[%d]: expected a CIDR block such as 203.0.113.0/24, got %q", i, fmt.Sprint(n))})
		}
	}
	if len(problems) > 0 {
		return &PolicyError{Problems: problems}
	}
	return nil
}

func hasNetworks(data map[string]any) bool {
	n, ok := data["known_networks"].([]any)
	return ok && len(n) > 0
}

// Rules lists the loaded rules, ordered by id.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.ordered))
	for i, r := range e.ordered {
		out[i] = *r
	}
	return out
}

// Warnings are things worth telling the author that do not stop the engine.
func (e *Engine) Warnings() []string { return e.warnings }

// Notes are facts about the load worth an info line, such as the Sigma rules
// skipped for another log source.
func (e *Engine) Notes() []string { return e.notes }

// readMetadata reads each rule package's METADATA and refuses rules without an
// id or with an unknown severity. A rule package is rules.<pack>.<name>.
func (e *Engine) readMetadata(c *ast.Compiler, modules map[string]*ast.Module) error {
	annotations := c.GetAnnotationSet()
	pe := &PolicyError{}
	var decls []*statefulDecl
	seen := map[string]string{}
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, file := range names {
		m := modules[file]
		path := m.Package.Path
		if len(path) < 2 || !path[1].Equal(ast.StringTerm("rules")) {
			continue // helpers and data live outside data.rules
		}
		loc := m.Package.Location
		problem := func(format string, args ...any) {
			p := Problem{File: file, Message: fmt.Sprintf(format, args...)}
			if loc != nil {
				p.Row, p.Col = loc.Row, loc.Col
			}
			pe.Problems = append(pe.Problems, p)
		}
		pkg := strings.TrimPrefix(path.String(), "data.")
		if len(path) != 4 {
			problem("package %s: a rule's package must be rules.<pack>.<name>", pkg)
			continue
		}
		key := [2]string{stringOf(path[2]), stringOf(path[3])}
		a := annotations.GetPackageScope(m.Package)
		if a == nil {
			problem("package %s has no METADATA block (title, description, custom.id, custom.severity)", pkg)
			continue
		}
		r := &Rule{Title: a.Title, Description: a.Description, Package: pkg, File: file}
		r.ID, _ = a.Custom["id"].(string)
		if r.ID == "" {
			problem("package %s: METADATA has no custom.id", pkg)
			continue
		}
		if prev, dup := seen[r.ID]; dup && prev != pkg {
			problem("rule id %q is used by %s and %s", r.ID, prev, pkg)
			continue
		}
		seen[r.ID] = pkg
		sev, _ := a.Custom["severity"].(string)
		s, err := alert.ParseSeverity(sev)
		if err != nil {
			problem("rule %s: custom.severity: %v", r.ID, err)
			continue
		}
		r.Severity = s
		if r.Title == "" {
			r.Title = r.ID
		}
		r.Tags = stringList(a.Custom["tags"])
		r.References = stringList(a.Custom["references"])
		r.Runbook, _ = a.Custom["runbook"].(string)
		r.Pack = key[0]
		var errs []error
		if r.Attack, errs = attack.Enterprise().ParseMappings(a.Custom["attack"]); len(errs) > 0 {
			for _, err := range errs {
				problem("rule %s: %v", r.ID, err)
			}
			continue
		}
		at := Problem{File: file}
		if a.Location != nil {
			at.Row, at.Col = a.Location.Row, a.Location.Col
		}
		if r.message, err = parseMessage(a.Custom["message"]); err != nil {
			problem("rule %s: %v", r.ID, err)
			continue
		}
		decl, probs := parseStateful(r, a.Custom, at)
		if pe.Problems = append(pe.Problems, probs...); len(probs) > 0 {
			continue
		}
		if _, ok := e.rules[key]; ok {
			// Several files may share a package; the first METADATA block names it.
			continue
		}
		e.rules[key] = r
		e.keyOf[r] = key
		e.ordered = append(e.ordered, r)
		if decl != nil {
			decls = append(decls, decl)
		}
	}
	if len(pe.Problems) == 0 {
		keys := alertKeysOf(modules)
		pe.Problems = e.linkStateful(decls, keys)
		pe.Problems = append(pe.Problems, e.checkMessages(keys)...)
	}
	if len(pe.Problems) > 0 {
		return pe
	}
	sort.Slice(e.ordered, func(i, j int) bool { return e.ordered[i].ID < e.ordered[j].ID })
	return nil
}

func stringOf(t *ast.Term) string {
	if s, ok := t.Value.(ast.String); ok {
		return string(s)
	}
	return t.String()
}

func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// FromConfig returns the options for the configuration's rules section: the
// packs, policy paths, data and Sigma rules the daemon and `validate --config`
// load.
func FromConfig(r config.Rules) []Option {
	return []Option{
		WithPacks(r.Packs...),
		WithPolicyPaths(r.Paths...),
		WithData(r.Data),
		WithSigma(r.Sigma...),
		WithEvalTimeout(r.EvalTimeout),
		WithEvaluator(r.Evaluator),
	}
}
