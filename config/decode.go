package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// yaml.v3 parses the file and converts each value (Node.Decode). A whole-file
// Decode stops at the first problem, though, and would expand nothing, so the
// walk over the Config types is ours: it reports every unknown or duplicate
// key and every wrong value with its line, expands ${NAME} in values only,
// reads *_file secrets, and records each path's line for validation.

// Short tags as yaml.v3 resolves them.
const (
	nullTag      = "!!null"
	boolTag      = "!!bool"
	intTag       = "!!int"
	strTag       = "!!str"
	timestampTag = "!!timestamp"
)

// maxNodes bounds the nodes visited, so that aliases of aliases
// ("billion laughs") cannot make the walk explode.
const maxNodes = 1 << 16

var (
	secretType = reflect.TypeFor[Secret]()
	timeType   = reflect.TypeFor[time.Time]()
)

type decoder struct {
	file    string
	baseDir string // relative *_file paths are resolved against it
	env     func(string) (string, bool)
	lines   map[string]int    // path of every value seen → its line, for validation
	fromEnv map[string]string // path of every value that went through ${NAME} → the text the file wrote
	written map[*yaml.Node]expansion
	errs    Errors
	visited int
}

func newDecoder(file, baseDir string, env func(string) (string, bool)) *decoder {
	return &decoder{file: file, baseDir: baseDir, env: env, lines: map[string]int{},
		fromEnv: map[string]string{}, written: map[*yaml.Node]expansion{}}
}

func (d *decoder) fail(line int, path string, err error) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Err: err})
}

func (d *decoder) failf(line int, path, format string, args ...any) {
	d.fail(line, path, fmt.Errorf(format, args...))
}

// document decodes data onto cfg. It reports false when the text is not a
// YAML mapping at all, so that validating the defaults left in cfg would
// only add noise.
func (d *decoder) document(data []byte, cfg *Config) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, extra yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return true // an empty file: all defaults
	}
	if err == nil {
		if err = dec.Decode(&extra); err == nil {
			d.failf(extra.Line, "", "found a second YAML document; only one is allowed")
			return false
		}
	}
	if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
		return false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if isNull(root) {
		return true
	}
	if root.Kind != yaml.MappingNode {
		d.failf(root.Line, "", "expected a mapping of keys at the top level, got %s", d.describe(root))
		return false
	}
	d.value(root, "", reflect.ValueOf(cfg).Elem())
	return true
}

// deref follows aliases and counts the node against maxNodes. It returns
// nil when the budget is spent.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if d.visited++; d.visited == maxNodes {
		d.failf(n.Line, "", "more than %d values (too many aliases?)", maxNodes)
	}
	if d.visited >= maxNodes {
		return nil
	}
	return n
}

// value sets v, of one of the types the Config structs use, from n.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value) {
	if n = d.deref(n); n == nil {
		return
	}
	switch t := v.Type(); {
	case t.Kind() == reflect.Struct && t != timeType:
		d.mapping(n, path, v)
	case t.Kind() == reflect.Pointer: // a notifier's slack or email block
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
			if dv, ok := v.Interface().(defaulter); ok {
				dv.setDefaults()
			}
		}
		d.value(n, path, v.Elem())
	case t.Kind() == reflect.Slice:
		d.sequence(n, path, v)
	case t.Kind() == reflect.Map:
		d.freeform(n, path, v)
	default:
		d.scalar(n, path, v)
	}
}

type field struct {
	index int
	file  bool // the key is x_file, naming a file that holds secret x
	files bool // a map of names to files holding secrets (tag option "files")
}

// fields maps each key a struct accepts to its field; Secret fields also
// accept their _file variant.
func fields(t reflect.Type) map[string]field {
	m := make(map[string]field, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		key, opt, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "" || key == "-" {
			continue
		}
		m[key] = field{index: i, files: opt == "files"}
		if f.Type == secretType {
			m[key+"_file"] = field{index: i, file: true}
		}
	}
	return m
}

// mapping decodes a mapping node onto the struct v.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if !d.isMapping(n, path) {
		return
	}
	known := fields(v.Type())
	filled := map[int]string{} // field → the key that set it
	for k, val := range d.pairs(n, path) {
		f, ok := known[k.Value]
		if !ok {
			d.failf(k.Line, path, "unknown key %q", k.Value)
			continue
		}
		// Only a secret and its _file variant share a field; which one was
		// meant cannot be guessed.
		if first, clash := filled[f.index]; clash {
			d.failf(k.Line, path, "set %q or %q, not both", first, k.Value)
			continue
		}
		filled[f.index] = k.Value
		switch {
		case f.file:
			d.secretFile(val, join(path, k.Value), v.Field(f.index))
		case f.files:
			d.secretFiles(val, join(path, k.Value), v.Field(f.index))
		default:
			d.value(val, join(path, k.Value), v.Field(f.index))
		}
	}
}

// pairs yields a mapping's keys and values, recording each key's line and
// leaving out, with an error, keys that are not strings or come again.
func (d *decoder) pairs(n *yaml.Node, path string) iter.Seq2[*yaml.Node, *yaml.Node] {
	return func(yield func(*yaml.Node, *yaml.Node) bool) {
		seen := map[string]int{} // key → line
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				d.failf(k.Line, path, "keys must be strings, got %s", d.describe(k))
				continue
			}
			if first, dup := seen[k.Value]; dup {
				d.failf(k.Line, path, "duplicate key %q (first set at line %d)", k.Value, first)
				continue
			}
			seen[k.Value] = k.Line
			d.lines[join(path, k.Value)] = k.Line
			if !yield(k, n.Content[i+1]) {
				return
			}
		}
	}
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // "key:" with nothing under it: an empty list
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.failf(n.Line, path, "expected a list, got %s", d.describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = e.Line
		d.value(e, p, s.Index(i))
	}
	v.Set(s)
}

// isMapping reports whether n is a mapping: a null leaves the default, and
// anything else is an error.
func (d *decoder) isMapping(n *yaml.Node, path string) bool {
	if !isNull(n) && n.Kind != yaml.MappingNode {
		d.failf(n.Line, path, "expected a mapping, got %s", d.describe(n))
	}
	return n.Kind == yaml.MappingNode
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
