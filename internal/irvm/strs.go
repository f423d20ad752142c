package irvm

import (
	"cmp"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A fast built-in answers a call to a pure built-in as OPA's built-in would,
// without the generic call (the operands made plain, a closure for the
// output, a BuiltinContext copied) and without allocating; ok is false for
// operands it does not take (a Lazy, a non-string where a string is due:
// OPA's built-in then gives its answer or its type error).
type fast func(ops []*ast.Term) (out *ast.Term, ok bool)

// fastBuiltins are the built-ins Sigma's rules call on most fields: type
// tests, case changes, prefix and membership tests.
var fastBuiltins = map[string]fast{
	"lower":                    lowerFast,
	"upper":                    upperFast,
	"startswith":               strings2(strings.HasPrefix),
	"endswith":                 strings2(strings.HasSuffix),
	"contains":                 strings2(strings.Contains),
	"strings.any_prefix_match": anyMatch(strings.HasPrefix),
	"strings.any_suffix_match": anyMatch(strings.HasSuffix),
	"internal.member_2":        member,
	"is_string":                isType(func(v ast.Value) bool { _, ok := v.(ast.String); return ok }),
	"is_number":                isType(func(v ast.Value) bool { _, ok := v.(ast.Number); return ok }),
	"is_boolean":               isType(func(v ast.Value) bool { _, ok := v.(ast.Boolean); return ok }),
	"is_null":                  isType(func(v ast.Value) bool { _, ok := v.(ast.Null); return ok }),
	"is_array":                 isType(func(v ast.Value) bool { _, ok := v.(*ast.Array); return ok }),
	"is_set":                   isType(func(v ast.Value) bool { _, ok := v.(ast.Set); return ok }),
	"is_object":                isType(func(v ast.Value) bool { _, ok := v.(ast.Object); return ok }),
}

// isType is a type test (a Lazy's are lazyBuiltin's).
func isType(is func(ast.Value) bool) fast {
	return func(ops []*ast.Term) (*ast.Term, bool) {
		if len(ops) != 1 {
			return nil, false
		}
		if _, lazy := ops[0].Value.(Lazy); lazy {
			return nil, false
		}
		return ast.InternedTerm(is(ops[0].Value)), true
	}
}

// member is `x in xs` for a set or an array xs, as OPA's built-in (a Lazy,
// and an object xs, are left to it).
func member(ops []*ast.Term) (*ast.Term, bool) {
	if len(ops) != 2 {
		return nil, false
	}
	if _, lazy := ops[0].Value.(Lazy); lazy {
		return nil, false
	}
	switch c := ops[1].Value.(type) {
	case ast.Set:
		return ast.InternedTerm(c.Contains(ops[0])), true
	case *ast.Array:
		for i := range c.Len() {
			if ops[0].Equal(c.Elem(i)) {
				return ast.InternedTerm(true), true
			}
		}
		return ast.InternedTerm(false), true
	}
	return nil, false
}

// stringFirst is the first of n operands, when there are n and it is a
// string.
func stringFirst(ops []*ast.Term, n int) (ast.String, bool) {
	if len(ops) != n {
		return "", false
	}
	s, ok := ops[0].Value.(ast.String)
	return s, ok
}

// strings2 is a boolean built-in of two strings.
func strings2(f func(s, t string) bool) fast {
	return func(ops []*ast.Term) (*ast.Term, bool) {
		a, ok := stringFirst(ops, 2)
		if !ok {
			return nil, false
		}
		b, ok := ops[1].Value.(ast.String)
		if !ok {
			return nil, false
		}
		return ast.InternedTerm(f(string(a), string(b))), true
	}
}

// anyMatch is strings.any_prefix_match (any_suffix_match) of one string and
// an array of strings, the form Sigma's rules call it in.
func anyMatch(match func(s, affix string) bool) fast {
	return func(ops []*ast.Term) (*ast.Term, bool) {
		s, ok := stringFirst(ops, 2)
		if !ok {
			return nil, false
		}
		switch b := ops[1].Value.(type) {
		case ast.String:
			return ast.InternedTerm(match(string(s), string(b))), true
		case *ast.Array:
			// Every member is checked before any is matched: a non-string
			// after a match is OPA's type error.
			for i := range b.Len() {
				if _, isString := b.Elem(i).Value.(ast.String); !isString {
					return nil, false
				}
			}
			found := false
			for i := 0; i < b.Len() && !found; i++ {
				found = match(string(s), string(b.Elem(i).Value.(ast.String)))
			}
			return ast.InternedTerm(found), true
		}
		return nil, false // a set, or OPA's type error
	}
}

func lowerFast(ops []*ast.Term) (*ast.Term, bool) { return caseFast(ops, &lowered, 'A', 'Z') }
func upperFast(ops []*ast.Term) (*ast.Term, bool) { return caseFast(ops, &uppered, 'a', 'z') }

// caseFast is lower or upper: the operand itself when the change leaves it
// as it is (as OPA gives it: an ASCII string without a letter from lo to hi),
// else the changed string, from c.
func caseFast(ops []*ast.Term, c *caseCache, lo, hi byte) (*ast.Term, bool) {
	s, ok := stringFirst(ops, 1)
	if !ok {
		return nil, false
	}
	same := true
	for i := 0; i < len(s) && same; i++ {
		same = s[i] < 0x80 && (s[i] < lo || s[i] > hi)
	}
	if same {
		return ops[0], true
	}
	if len(s) > maxCached {
		return nil, false
	}
	return c.get(string(s)), true
}

// The case caches keep the lower (upper) case of the strings rules change
// most: CloudTrail writes its event names, sources and types in mixed case,
// from a small vocabulary, and Sigma's rules lower them for every record.
// Two generations of at most cacheSize strings of at most maxCached bytes:
// when one is full, it becomes the old one and the oldest is dropped.
const (
	cacheSize = 4096
	maxCached = 128
)

type caseCache struct {
	mu       sync.RWMutex
	cur, old map[string]*ast.Term
	change   func(string) string
}

var (
	lowered = caseCache{change: strings.ToLower}
	uppered = caseCache{change: strings.ToUpper}
)

// get is the term of s changed.
func (c *caseCache) get(s string) *ast.Term {
	if t := c.lookup(s); t != nil {
		return t
	}
	t := ast.StringTerm(c.change(s))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= cacheSize || c.cur == nil {
		c.old, c.cur = c.cur, make(map[string]*ast.Term, cacheSize)
	}
	// A copy: s may share the memory of a larger string.
	c.cur[strings.Clone(s)] = t
	return t
}

func (c *caseCache) lookup(s string) *ast.Term {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return cmp.Or(c.cur[s], c.old[s])
}
