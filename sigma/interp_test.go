package sigma

import (
	"strconv"
	"strings"
)

// The direct interpreter of fuzz rules, written from the specification.

func (r *fRule) eval(rec map[string]any) bool {
	c := &condEval{toks: lexCondition(r.cond), r: r, rec: rec}
	return c.or()
}

type condEval struct {
	toks []string
	pos  int
	r    *fRule
	rec  map[string]any
}

func (c *condEval) peek() string {
	if c.pos < len(c.toks) {
		return c.toks[c.pos]
	}
	return ""
}

func (c *condEval) or() bool {
	v := c.and()
	for c.peek() == "or" {
		c.pos++
		w := c.and()
		v = v || w
	}
	return v
}

func (c *condEval) and() bool {
	v := c.not()
	for c.peek() == "and" {
		c.pos++
		w := c.not()
		v = v && w
	}
	return v
}

func (c *condEval) not() bool {
	if c.peek() == "not" {
		c.pos++
		return !c.not()
	}
	t := c.toks[c.pos]
	c.pos++
	switch t {
	case "(":
		v := c.or()
		c.pos++ // )
		return v
	case "1": // 1 of sel*
		c.pos += 2
		for i := range c.r.sels {
			if c.sel(i) {
				return true
			}
		}
		return false
	case "all": // all of them
		c.pos += 2
		for i := range c.r.sels {
			if !c.sel(i) {
				return false
			}
		}
		return true
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(t, "sel"))
	return c.sel(i)
}

func (c *condEval) sel(i int) bool {
	for _, t := range c.r.sels[i] {
		if !evalTest(t, c.rec) {
			return false
		}
	}
	return true
}

// valuesAt is what a dotted path reaches; a list on the way is any element.
func valuesAt(rec map[string]any, field string) []any {
	cur := []any{rec}
	for _, k := range strings.Split(field, ".") {
		var next []any
		for _, x := range cur {
			switch x := x.(type) {
			case map[string]any:
				if v, ok := x[k]; ok {
					next = append(next, v)
				}
			case []any:
				for _, e := range x {
					if m, ok := e.(map[string]any); ok {
						if v, ok := m[k]; ok {
							next = append(next, v)
						}
					}
				}
			}
		}
		cur = next
	}
	return cur
}

func leavesOf(vs []any) []any {
	var out []any
	for _, v := range vs {
		if l, ok := v.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

func evalTest(t fTest, rec map[string]any) bool {
	vs := valuesAt(rec, t.field)
	leaves := leavesOf(vs)
	switch t.mod {
	case "exists":
		return (len(vs) > 0) == t.vals[0].(bool)
	case "null":
		if len(leaves) == 0 {
			return true
		}
		for _, l := range leaves {
			if l == nil {
				return true
			}
		}
		return false
	}
	matchesAny := func(v any) bool {
		for _, l := range leaves {
			if leafMatches(t.mod, v, l) {
				return true
			}
		}
		return false
	}
	switch t.mod {
	case "contains|all":
		for _, v := range t.vals {
			if !matchesAny(v) {
				return false
			}
		}
		return true
	case "neq":
		present := false
		for _, l := range leaves {
			present = present || l != nil
		}
		for _, v := range t.vals {
			if matchesAny(v) {
				return false
			}
		}
		return present
	}
	for _, v := range t.vals {
		if matchesAny(v) {
			return true
		}
	}
	return false
}

func leafMatches(mod string, v, leaf any) bool {
	var s string
	switch l := leaf.(type) {
	case string:
		s = l
	case float64:
		s = strconv.FormatFloat(l, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(l)
	default:
		return false
	}
	var pat string
	switch v := v.(type) {
	case int:
		if n, ok := leaf.(float64); ok && n == float64(v) {
			return true
		}
		pat = strconv.Itoa(v)
		if mod == "" || mod == "neq" || mod == "cased" {
			return s == pat // a number's string form has no letters
		}
	case bool:
		pat = strconv.FormatBool(v)
		if mod == "" || mod == "neq" {
			return strings.ToLower(s) == pat
		}
	case string:
		pat = v
	}
	if mod != "cased" {
		pat, s = strings.ToLower(pat), strings.ToLower(s)
	}
	// The value is unescaped on its own and the modifier's wildcards added
	// after (as pySigma does): a value ending in a lone backslash is a literal
	// backslash, not an escape of the wildcard that contains appends.
	tokens := unescape(pat)
	switch mod {
	case "contains", "contains|all":
		tokens = append(append([]rune{-1}, tokens...), -1)
	case "startswith":
		tokens = append(tokens, -1)
	case "endswith":
		tokens = append([]rune{-1}, tokens...)
	}
	return globMatch(tokens, []rune(s))
}

// token is a rune, or -1 for * and -2 for ?.
func unescape(p string) []rune {
	var out []rune
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs) && (rs[i+1] == '*' || rs[i+1] == '?' || rs[i+1] == '\\'):
			out = append(out, rs[i+1])
			i++
		case rs[i] == '*':
			out = append(out, -1)
		case rs[i] == '?':
			out = append(out, -2)
		default:
			out = append(out, rs[i])
		}
	}
	return out
}

func globMatch(p, s []rune) bool {
	if len(p) == 0 {
		return len(s) == 0
	}
	switch p[0] {
	case -1:
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case -2:
		return len(s) > 0 && globMatch(p[1:], s[1:])
	}
	return len(s) > 0 && s[0] == p[0] && globMatch(p[1:], s[1:])
}
