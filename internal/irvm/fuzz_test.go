package irvm

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// regoGen writes a small random Rego module from a byte string, each byte
// one choice of a grammar of the constructs the plan runs: complete rules
// with else and default, partial sets and objects, ref heads, functions,
// some/every/not, comprehensions, membership, built-ins that can fail.
type regoGen struct {
	b     []byte
	i     int
	fresh int
	scope [][]string // bound variables, innermost last
	depth int

	values []string // complete, set, object rules defined so far
	funcs  []string // functions defined so far
	out    strings.Builder
}

// n is the next choice in [0, k); 0 once the bytes are used up.
func (g *regoGen) n(k int) int {
	if g.i >= len(g.b) {
		return 0
	}
	c := int(g.b[g.i])
	g.i++
	return c % k
}

func (g *regoGen) pick(opts ...string) string { return opts[g.n(len(opts))] }

func (g *regoGen) bind() string {
	g.fresh++
	v := fmt.Sprintf("v%d", g.fresh)
	g.scope[len(g.scope)-1] = append(g.scope[len(g.scope)-1], v)
	return v
}

func (g *regoGen) push() { g.scope = append(g.scope, nil) }
func (g *regoGen) pop()  { g.scope = g.scope[:len(g.scope)-1] }

// bound is a bound variable, or "" when there is none.
func (g *regoGen) bound() string {
	var all []string
	for _, s := range g.scope {
		all = append(all, s...)
	}
	if len(all) == 0 {
		return ""
	}
	return all[g.n(len(all))]
}

// coll is an expression for a collection (or, from input, anything).
func (g *regoGen) coll() string {
	switch g.n(9) {
	case 0:
		return "input.xs"
	case 1:
		return "input.m"
	case 2:
		return "input.s"
	case 3:
		return g.pick(`[1, 2, "a"]`, `{"a": 1, "b": 2}`, `{1, "a", 1.0}`, `[]`, `[{"k": 1}, {"k": 1.0}]`)
	case 4:
		return g.pick("data.d.list", "data.d.obj", "data.d.users")
	case 5:
		if v := g.bound(); v != "" {
			return v
		}
		return "input.xs"
	case 6:
		if len(g.values) > 0 {
			return "data.x." + g.values[g.n(len(g.values))]
		}
		return "input.m"
	case 7:
		if g.depth < 2 {
			return g.comprehension()
		}
		return "input.xs"
	default:
		return `split(input.str, ",")`
	}
}

// scalar is an expression for a scalar, mostly.
func (g *regoGen) scalar() string {
	switch g.n(10) {
	case 0:
		return "input.n"
	case 1:
		return "input.str"
	case 2:
		return g.pick("1", "1.0", `"a"`, "true", "null", "0", `"1"`, "2.5")
	case 3, 4:
		if v := g.bound(); v != "" {
			return v
		}
		return "input.n"
	case 5:
		return "count(" + g.coll() + ")"
	case 6:
		return g.scalar() + g.pick(" + ", " * ", " - ") + g.scalar()
	case 7:
		return "to_number(" + g.scalar() + ")"
	case 8:
		if len(g.funcs) > 0 && g.depth < 2 {
			g.depth++
			defer func() { g.depth-- }()
			return g.funcs[g.n(len(g.funcs))] + "(" + g.expr() + ")"
		}
		return "input.flag"
	default:
		// The built-ins irvm answers itself (strs.go).
		return g.pick("input.m.a", "lower("+g.scalar()+")", "upper(input.str)", "is_string("+g.scalar()+")", "is_number(input.m.a)")
	}
}

func (g *regoGen) expr() string {
	if g.n(3) == 0 {
		return g.coll()
	}
	return g.scalar()
}

func (g *regoGen) comprehension() string {
	g.depth++
	defer func() { g.depth-- }()
	g.push()
	defer g.pop()
	switch g.n(3) {
	case 0:
		v := g.bind()
		src := g.coll()
		return fmt.Sprintf("[%s | some %s in %s; %s]", v, v, src, g.lit())
	case 1:
		v := g.bind()
		src := g.coll()
		return fmt.Sprintf("{%s | some %s in %s; %s}", v, v, src, g.lit())
	default:
		k, v := g.bind(), g.bind()
		src := g.coll()
		return fmt.Sprintf("{%s: %s | some %s, %s in %s}", k, v, k, v, src)
	}
}

// lit is one literal of a body; it may bind variables in the current scope.
func (g *regoGen) lit() string {
	switch g.n(12) {
	case 0:
		src := g.coll()
		return fmt.Sprintf("some %s in %s", g.bind(), src)
	case 1:
		src := g.coll()
		k, v := g.bind(), g.bind()
		return fmt.Sprintf("some %s, %s in %s", k, v, src)
	case 2:
		return g.scalar() + g.pick(" == ", " != ", " < ", " >= ") + g.expr()
	case 3:
		if g.depth > 2 {
			return "input.flag"
		}
		g.depth++
		defer func() { g.depth-- }()
		g.push()
		defer g.pop()
		return "not " + g.pick("input.flag", "input.missing") + "; not " + g.simple()
	case 4:
		if g.depth > 2 {
			return "input.flag"
		}
		g.depth++
		defer func() { g.depth-- }()
		src := g.coll()
		g.push()
		defer g.pop()
		v := g.bind()
		return fmt.Sprintf("every %s in %s { %s }", v, src, g.simple())
	case 5:
		e := g.expr()
		return fmt.Sprintf("%s := %s", g.bind(), e)
	case 6:
		return g.expr() + " in " + g.coll()
	case 7:
		return g.pick("startswith", "endswith", "contains", "strings.any_prefix_match", "strings.any_suffix_match") + "(" + g.scalar() + ", " + g.pick(`"a"`, `["A", "a,"]`, "input.str", "input.xs") + ")"
	case 8:
		return "to_number(" + g.scalar() + ") > 0"
	case 9:
		src := g.coll()
		return fmt.Sprintf("walk(%s, [%s, %s])", src, g.bind(), g.bind())
	case 10:
		// A lookup into a rule's value by a key, or by a variable.
		if len(g.values) > 0 {
			rule := g.values[g.n(len(g.values))]
			if g.n(2) == 0 {
				return fmt.Sprintf("%s := data.x.%s[%s]", g.bind(), rule, g.scalar())
			}
			k, v := g.bind(), g.bind()
			return fmt.Sprintf("some %s; %s := data.x.%s[%s]", k, v, rule, k)
		}
		return "input.flag"
	default:
		return g.pick("input.flag", "input.xs[_] == 1", "data.d.users[input.str].role == \"admin\"", `print("p", input.n)`)
	}
}

// simple is a literal that binds nothing outside itself.
func (g *regoGen) simple() string {
	switch g.n(4) {
	case 0:
		return g.scalar() + g.pick(" == ", " != ", " > ") + g.scalar()
	case 1:
		return "startswith(" + g.scalar() + `, "a")`
	case 2:
		return g.scalar() + " in " + g.coll()
	default:
		if len(g.values) > 0 {
			return "data.x." + g.values[g.n(len(g.values))]
		}
		return "input.flag"
	}
}

func (g *regoGen) body() string {
	parts := []string{g.lit()}
	for range g.n(3) {
		parts = append(parts, g.lit())
	}
	return "{ " + strings.Join(parts, "; ") + " }"
}

// module writes the module and returns the query over its rules.
func (g *regoGen) module() (string, string) {
	g.out.WriteString("package x\n\n")
	var query []string
	rules := 1 + g.n(4)
	for i := range rules {
		g.scope = [][]string{nil}
		switch g.n(7) {
		case 0: // complete, maybe with else and default
			name := fmt.Sprintf("p%d", i)
			if g.n(2) == 0 {
				fmt.Fprintf(&g.out, "default %s := %s\n", name, g.pick("false", "0", `"d"`))
			}
			body := g.body()
			fmt.Fprintf(&g.out, "%s := %s if %s", name, g.expr(), body)
			if g.n(2) == 0 {
				g.scope = [][]string{nil}
				body := g.body()
				fmt.Fprintf(&g.out, " else := %s if %s", g.expr(), body)
			}
			g.out.WriteString("\n")
			g.values = append(g.values, name)
			query = append(query, name)
		case 1: // boolean, several bodies
			name := fmt.Sprintf("b%d", i)
			for range 1 + g.n(2) {
				g.scope = [][]string{nil}
				fmt.Fprintf(&g.out, "%s if %s\n", name, g.body())
			}
			g.values = append(g.values, name)
			query = append(query, name)
		case 2: // partial set
			name := fmt.Sprintf("s%d", i)
			body := g.body()
			fmt.Fprintf(&g.out, "%s contains %s if %s\n", name, g.expr(), body)
			g.values = append(g.values, name)
			query = append(query, name)
		case 3: // partial object
			name := fmt.Sprintf("o%d", i)
			for range 1 + g.n(2) {
				g.scope = [][]string{nil}
				body := g.body()
				key := g.scalar()
				if key == "1.0" {
					// OPA's evaluator (v1.22.3) has a partial object
					// whose rules' constant keys are 1 and 1.0
					// undefined (not even a conflict when both hold): a
					// bug of its rule tree, which the plan does not
					// share. 1.0 as a key made at run time stays.
					key = "1"
				}
				fmt.Fprintf(&g.out, "%s[%s] := %s if %s\n", name, key, g.expr(), body)
			}
			g.values = append(g.values, name)
			query = append(query, name)
		case 4: // ref head
			name := fmt.Sprintf("a%d", i)
			body := g.body()
			fmt.Fprintf(&g.out, "%s.b[%s] := %s if %s\n%s.c := 1\n", name, g.scalar(), g.expr(), body, name)
			g.values = append(g.values, name)
			query = append(query, name)
		case 5: // function, several definitions, maybe else
			name := fmt.Sprintf("f%d", i)
			for range 1 + g.n(2) {
				g.scope = [][]string{{"arg"}}
				body := g.body()
				fmt.Fprintf(&g.out, "%s(arg) := %s if %s", name, g.expr(), body)
				if g.n(3) == 0 {
					g.scope = [][]string{{"arg"}}
					body := g.body()
					fmt.Fprintf(&g.out, " else := %s if %s", g.expr(), body)
				}
				g.out.WriteString("\n")
			}
			g.funcs = append(g.funcs, name)
			query = append(query, fmt.Sprintf("%s := [v | v := data.x.%s(%s)]", name, name, g.pick("input.n", "input.xs", "input.m", "input.str")))
			continue
		default: // comprehension-valued
			name := fmt.Sprintf("c%d", i)
			g.depth = 0
			fmt.Fprintf(&g.out, "%s := %s\n", name, g.comprehension())
			g.values = append(g.values, name)
			query = append(query, name)
		}
		last := query[len(query)-1]
		query[len(query)-1] = fmt.Sprintf("%s := [v | v := data.x.%s]", last, last)
	}
	return g.out.String(), strings.Join(query, "; ")
}

// fuzzInputs are the inputs every generated module is evaluated on: of the
// types the grammar expects, of others, and none.
var fuzzInputs = []string{
	`{"n": 1, "str": "A,b", "xs": [1, "1", 2.5, "abc"], "m": {"a": 1, "b": "x"}, "flag": true, "s": {1, "a"}}`,
	`{"n": 1.0, "str": "u1", "xs": [], "m": {}, "flag": false, "s": set()}`,
	`{"n": "x", "str": 5, "xs": "abc", "m": [1, 1.0], "flag": null, "s": [{"k": 1}]}`,
	`{}`,
	``,
}

const fuzzData = `{"d": {"list": [1, "a", 2.0], "obj": {"a": 1, "b": [1]}, "users": {"u1": {"role": "admin"}, "u2": {}}}}`

// FuzzEval compares the plan with OPA's evaluator on random modules: the
// same results, or both an error.
func FuzzEval(f *testing.F) {
	for _, seed := range []string{
		"\x00\x00\x01\x02\x03", "\x05\x01\x02\x03\x04\x05\x06\x07", "\x03\x04\x05\x00\x07\x08\x09",
		"\x02\x02\x04\x06\x01\x03", "\x01\x00\x03\x04\x04\x04\x02", "\x06\x07\x01\x02\x08\x01\x02",
		"abcdefghijklmnopqrstuvwxyz", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6",
	} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		g := &regoGen{b: b}
		module, query := g.module()
		tc := diffCase{name: "fuzz", modules: []string{module}, query: query, data: fuzzData, inputs: fuzzInputs, print: true, builtinErrorsFirst: true}
		if _, err := compileCase(tc); err != nil {
			return // not Rego the compiler takes (unsafe, type errors): nothing to compare
		}
		diff, err := compare(ctx, tc)
		if err != nil {
			t.Fatalf("%v\nmodule:\n%s\nquery: %s", err, module, query)
		}
		if diff != "" {
			t.Errorf("disagreement, %s\nmodule:\n%s\nquery: %s", diff, module, query)
		}
	})
}
