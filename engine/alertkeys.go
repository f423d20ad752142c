package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// alertKeys are the keys a rule's alert objects can have. any is set when a
// rule builds its object in a way the engine cannot read statically; then any
// name is accepted.
type alertKeys struct {
	extra []string
	any   bool
}

func (k alertKeys) has(name string) bool {
	return k.any || slices.Contains(alertFieldNames, name) || slices.Contains(k.extra, name)
}

func (k alertKeys) describe() string {
	return strings.Join(append(slices.Clone(alertFieldNames), k.extra...), ", ")
}

// alertKeysOf reads, for each rule package, the extra keys its
// `alert contains {...}` objects write.
func alertKeysOf(modules map[string]*ast.Module) map[string]alertKeys {
	out := map[string]alertKeys{}
	for _, m := range modules {
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		k := out[pkg]
		for _, r := range m.Rules {
			if r.Head.Name != "alert" && (len(r.Head.Reference) == 0 || !r.Head.Reference[0].Equal(ast.VarTerm("alert"))) {
				continue
			}
			if r.Head.Key == nil {
				k.any = true
				continue
			}
			obj, ok := r.Head.Key.Value.(ast.Object)
			if !ok {
				k.any = true
				continue
			}
			obj.Foreach(func(key, _ *ast.Term) {
				s, isStr := key.Value.(ast.String)
				if !isStr {
					k.any = true
					return
				}
				if !slices.Contains(reservedAlertKeys, string(s)) && !slices.Contains(k.extra, string(s)) {
					k.extra = append(k.extra, string(s))
				}
			})
		}
		sort.Strings(k.extra)
		out[pkg] = k
	}
	return out
}

// extraFields are the keys of a rule's alert object beyond message, severity
// and dedup_key, as strings.
func extraFields(res map[string]any) map[string]string {
	var out map[string]string
	for k, v := range res {
		if slices.Contains(reservedAlertKeys, k) || v == nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}
