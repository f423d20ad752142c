package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// yaml.v3 decodes a whole struct at a time and stops at the first problem
// (KnownFields is only a Decoder option, and Node.Decode ignores it), so the
// configuration is parsed into a node tree and walked here instead: that
// gives every unknown key, wrong type and bad variable with its line, and
// lets ${NAME} be expanded in values only.

// Short tags as yaml.v3 resolves them.
const (
	nullTag  = "!!null"
	boolTag  = "!!bool"
	intTag   = "!!int"
	floatTag = "!!float"
	strTag   = "!!str"
)

// maxNodes bounds the nodes visited, so that aliases of aliases
// ("billion laughs") cannot make the walk explode.
const maxNodes = 1 << 16

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
	levelType    = reflect.TypeFor[slog.Level]()
)

var levels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

type decoder struct {
	file    string
	baseDir string // relative *_file paths are resolved against it
	env     func(string) (string, bool)
	lines   map[string]int    // path of every value seen → its line, for validation
	fromEnv map[string]string // path of every value that went through ${NAME} → the text the file wrote
	errs    Errors
	visited int
}

func newDecoder(file, baseDir string, env func(string) (string, bool)) *decoder {
	return &decoder{file: file, baseDir: baseDir, env: env, lines: map[string]int{}, fromEnv: map[string]string{}}
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
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return true // an empty file: all defaults
	case err != nil:
		d.syntaxError(err)
		return false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.failf(extra.Line, "", "found a second YAML document; only one is allowed")
		return false
	case !errors.Is(err, io.EOF):
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
		d.failf(root.Line, "", "expected a mapping of keys at the top level, got %s", describe(root))
		return false
	}
	d.decode(root, "", reflect.ValueOf(cfg).Elem())
	return true
}

var syntaxLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns yaml.v3's "yaml: line N: msg" into an Error with a Line.
func (d *decoder) syntaxError(err error) {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		d.fail(0, "", err)
		return
	}
	line, _ := strconv.Atoi(m[1])
	d.fail(line, "", errors.New(m[2]))
}

// deref follows aliases and counts the node against maxNodes. It returns
// nil when the budget is spent.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.visited++
	if d.visited == maxNodes {
		d.failf(n.Line, "", "more than %d values (too many aliases?)", maxNodes)
	}
	if d.visited >= maxNodes {
		return nil
	}
	return n
}

// decode sets v, of one of the types the Config structs use, from n.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if n = d.deref(n); n == nil {
		return
	}
	switch t := v.Type(); t {
	case secretType:
		if s, ok := d.str(n, path); ok {
			v.SetString(s)
		}
	case durationType:
		d.duration(n, path, v)
	case timeType:
		d.time(n, path, v)
	case levelType:
		d.level(n, path, v)
	default:
		switch t.Kind() {
		case reflect.String:
			if s, ok := d.str(n, path); ok {
				v.SetString(s)
			}
		case reflect.Bool:
			d.bool(n, path, v)
		case reflect.Int:
			d.int(n, path, v)
		case reflect.Struct:
			d.mapping(n, path, v)
		case reflect.Pointer:
			if isNull(n) {
				return
			}
			if v.IsNil() {
				v.Set(reflect.New(t.Elem()))
				setDefaults(v.Elem())
			}
			d.decode(n, path, v.Elem())
		case reflect.Slice:
			d.sequence(n, path, v)
		case reflect.Map:
			if t.Elem().Kind() == reflect.String {
				d.stringMap(n, path, v)
			} else {
				d.dataMap(n, path, v)
			}
		default:
			panic("config: no decoder for " + t.String())
		}
	}
}

func setDefaults(v reflect.Value) {
	if dv, ok := v.Addr().Interface().(defaulter); ok {
		dv.setDefaults()
	}
}

type field struct {
	index int
	file  bool // the key is x_file, naming a file that holds secret x
}

// fields maps each key a struct accepts to its field; Secret fields also
// accept their _file variant.
func fields(t reflect.Type) map[string]field {
	m := make(map[string]field, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "" || key == "-" {
			continue
		}
		m[key] = field{index: i}
		if f.Type == secretType {
			m[key+"_file"] = field{index: i, file: true}
		}
	}
	return m
}

// mapping decodes a mapping node onto the struct v.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.failf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	known := fields(v.Type())
	seen := map[string]int{}   // key → line
	filled := map[int]string{} // field → the key that set it
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		f, ok := known[key]
		if !ok {
			d.failf(k.Line, path, "unknown key %q", key)
			continue
		}
		// Only a secret and its _file variant share a field; which one was
		// meant cannot be guessed.
		if first, clash := filled[f.index]; clash {
			d.failf(k.Line, path, "set %q or %q, not both", first, key)
			continue
		}
		filled[f.index] = key
		p := join(path, key)
		d.lines[p] = k.Line
		if f.file {
			d.secretFile(val, p, v.Field(f.index))
			continue
		}
		d.decode(val, p, v.Field(f.index))
	}
}

// key checks a mapping key and records it in seen, reporting duplicates.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		d.failf(k.Line, path, "keys must be strings, got %s", describe(k))
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.failf(k.Line, path, "duplicate key %q (first set at line %d)", k.Value, first)
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

// secretFile reads the secret held in the file that n names.
func (d *decoder) secretFile(n *yaml.Node, path string, v reflect.Value) {
	if n = d.deref(n); n == nil {
		return
	}
	name, ok := d.str(n, path)
	if !ok {
		return
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.baseDir, name)
	}
	// A name that came from the environment is not shown, as describe says.
	shown := name
	if _, env := d.fromEnv[path]; env {
		shown = describe(n)
	}
	b, err := readSecretFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && shown != name {
			err = &fs.PathError{Op: pe.Op, Path: shown, Err: pe.Err}
		}
		d.fail(n.Line, path, err) // *fs.PathError: names the file, not its contents
		return
	}
	if len(b) > maxSecretFile {
		d.failf(n.Line, path, "%s is larger than %d KiB: not a secret (a wrong path?)", shown, maxSecretFile>>10)
		return
	}
	// Files written by editors and `echo` end in a newline that is not
	// part of the secret.
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		d.failf(n.Line, path, "%s is empty", shown)
		return
	}
	v.SetString(s)
}

// maxSecretFile bounds what a *_file key reads: tokens, passwords and webhook
// URLs are short, and a path pointing at a device or a large file by mistake
// (/dev/zero, a log) must not hang start-up or fill the memory.
const maxSecretFile = 64 << 10

// readSecretFile reads up to maxSecretFile+1 bytes of name (one more, to tell a
// file at the limit from a larger one).
func readSecretFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSecretFile+1))
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // "key:" with nothing under it: an empty list
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.failf(n.Line, path, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = e.Line
		setDefaults(s.Index(i))
		d.decode(e, p, s.Index(i))
	}
	v.Set(s)
}

// stringMap decodes a mapping of strings (a suppression's where).
func (d *decoder) stringMap(n *yaml.Node, path string, v reflect.Value) {
	m := reflect.MakeMap(v.Type())
	v.Set(m)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.failf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		p := join(path, key)
		d.lines[p] = k.Line
		if val = d.deref(val); val == nil {
			return
		}
		s, _ := d.str(val, p)
		m.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(s))
	}
}

// dataMap decodes free-form data (rules.data) into JSON-like values, as
// OPA expects them: map[string]any, []any, string, bool, int, float64, nil.
func (d *decoder) dataMap(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.failf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	if m, ok := d.data(n, path).(map[string]any); ok {
		v.Set(reflect.ValueOf(m))
	}
}

func (d *decoder) data(n *yaml.Node, path string) any {
	if n = d.deref(n); n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, ok := d.key(n.Content[i], path, seen)
			if !ok {
				continue
			}
			p := join(path, key)
			d.lines[p] = n.Content[i].Line
			m[key] = d.data(n.Content[i+1], p)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = e.Line
			s[i] = d.data(e, p)
		}
		return s
	}
	val, tag, ok := d.scalar(n, path)
	if !ok {
		return nil
	}
	switch tag {
	case nullTag:
		return nil
	case boolTag, intTag, floatTag:
		var x any
		if err := (&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val}).Decode(&x); err == nil {
			return x
		}
	}
	// Everything else, timestamps included, stays the string that was
	// written: Rego has no time type.
	return val
}

// scalar returns n's value with ${NAME} expanded, and its tag. A value that
// came through expansion is typed as if written plainly in the file, so
// `port: ${SMTP_PORT}` is an integer. ok is false, with the problem
// reported, when n is not a scalar or expansion failed.
func (d *decoder) scalar(n *yaml.Node, path string) (val, tag string, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.failf(n.Line, path, "expected a single value, got %s", describe(n))
		return "", "", false
	}
	if !strings.Contains(n.Value, "${") {
		return n.Value, n.ShortTag(), true
	}
	val, errs := expand(n.Value, d.env)
	d.fromEnv[path] = n.Value
	for _, err := range errs {
		d.fail(n.Line, path, err)
	}
	if len(errs) > 0 {
		return "", "", false
	}
	return val, (&yaml.Node{Kind: yaml.ScalarNode, Value: val}).ShortTag(), true
}

// str returns a string value. Any scalar is a string (name: 42 is "42"). ok
// is false for an empty value ("", null, or a variable set to ""), which
// leaves the default in place.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	val, tag, ok := d.scalar(n, path)
	expanded := strings.Contains(n.Value, "${")
	// An expanded value is taken as it is, even "null" or "~": it may be a
	// password.
	if !ok || val == "" || tag == nullTag && !expanded {
		return "", false
	}
	return val, true
}

func (d *decoder) bool(n *yaml.Node, path string, v reflect.Value) {
	val, tag, ok := d.scalar(n, path)
	if !ok || tag == nullTag {
		return
	}
	b, err := strconv.ParseBool(val)
	if tag != boolTag || err != nil {
		d.failf(n.Line, path, "expected true or false, got %s", describe(n))
		return
	}
	v.SetBool(b)
}

func (d *decoder) int(n *yaml.Node, path string, v reflect.Value) {
	val, tag, ok := d.scalar(n, path)
	if !ok || tag == nullTag {
		return
	}
	var i int
	if tag != intTag || (&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val}).Decode(&i) != nil {
		d.failf(n.Line, path, "expected an integer, got %s", describe(n))
		return
	}
	v.SetInt(int64(i))
}

func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) {
	val, tag, ok := d.scalar(n, path)
	if !ok || tag == nullTag {
		return
	}
	dur, err := time.ParseDuration(val)
	if err != nil {
		d.failf(n.Line, path, "expected a duration such as 30s, 5m or 1h, got %s", describe(n))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) time(n *yaml.Node, path string, v reflect.Value) {
	val, tag, ok := d.scalar(n, path)
	if !ok || tag == nullTag {
		return
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, val); err == nil {
			v.Set(reflect.ValueOf(t))
			return
		}
	}
	d.failf(n.Line, path, "expected a date (2006-01-02) or an RFC 3339 time (2006-01-02T15:04:05Z), got %s", describe(n))
}

func (d *decoder) level(n *yaml.Node, path string, v reflect.Value) {
	val, tag, ok := d.scalar(n, path)
	if !ok || tag == nullTag {
		return
	}
	l, ok := levels[val]
	if !ok {
		d.failf(n.Line, path, "expected one of debug, info, warn, error, got %s", describe(n))
		return
	}
	v.SetInt(int64(l))
}

// describe names what a node holds for "expected X, got Y" messages. It
// quotes the text of the file, never an expanded value, which could be a
// secret taken from the environment.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "${") {
			return fmt.Sprintf("%q (value not shown)", n.Value)
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
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

// expand replaces ${NAME} with the variable's value and $${ with a literal
// ${. It reports every unset variable, by name only.
func expand(s string, env func(string) (string, bool)) (string, []error) {
	var b strings.Builder
	var errs []error
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				errs = append(errs, errors.New(`"${" without a closing "}" (write "$${" for a literal "${")`))
				i = len(s)
				break
			}
			name := s[i+2 : i+2+end]
			i += 2 + end + 1
			if !validVarName(name) {
				errs = append(errs, fmt.Errorf("invalid environment variable name %q in ${...}", name))
				break
			}
			val, ok := env(name)
			if !ok {
				errs = append(errs, fmt.Errorf("environment variable %s is not set", name))
				break
			}
			b.WriteString(val)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), errs
}

func validVarName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
