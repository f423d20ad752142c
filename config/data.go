package config

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// freeform decodes a mapping whose keys are data rather than schema: a
// suppression's where (strings only) and rules.data (anything, for OPA).
// The walk checks keys, expands values and records lines; yaml.v3 converts.
func (d *decoder) freeform(n *yaml.Node, path string, v reflect.Value) {
	if !d.isMapping(n, path) {
		return
	}
	before := len(d.errs)
	d.tree(n, path, v.Type().Elem().Kind() == reflect.String)
	if len(d.errs) > before {
		return // yaml.v3 would only report the same problems again
	}
	m := reflect.New(v.Type())
	if err := n.Decode(m.Interface()); err != nil {
		d.fail(n.Line, path, err)
		return
	}
	v.Set(m.Elem())
}

// tree prepares a free-form value for yaml.v3: keys are strings (OPA has no
// other), ${NAME} is expanded, and timestamps stay the text written (Rego has
// no time type). With flat, the mapping's values must be single values.
func (d *decoder) tree(n *yaml.Node, path string, flat bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for k, val := range d.pairs(n, path) {
			k.Tag = strTag
			if val = d.deref(val); val == nil {
				return
			}
			if flat && val.Kind != yaml.ScalarNode {
				d.failf(val.Line, join(path, k.Value), "expected a single value, got %s", d.describe(val))
				continue
			}
			d.tree(val, join(path, k.Value), false)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = e.Line
			if e = d.deref(e); e == nil {
				return
			}
			d.tree(e, p, false)
		}
	case yaml.ScalarNode:
		if d.expand(n, path) && n.ShortTag() == timestampTag {
			n.Tag = strTag
		}
	}
}
