package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ${NAME} references: expanded in values, never in keys, and never shown in a
// message once expanded (see describe here and validator.show).

// expansion is what became of a scalar holding ${NAME}; an alias reaches the
// same node again, which is expanded only once.
type expansion struct {
	text string // as the file wrote it
	ok   bool
}

// expand replaces ${NAME} in a scalar's value, once per node, and types the
// result as if written plainly in the file, so that `port: ${SMTP_PORT}` is
// an integer. It reports false, with the problems, when a variable is unset.
func (d *decoder) expand(n *yaml.Node, path string) bool {
	x, done := d.written[n]
	if !done {
		if !strings.Contains(n.Value, "${") {
			return true
		}
		val, errs := expand(n.Value, d.env)
		for _, err := range errs {
			d.fail(n.Line, path, err)
		}
		x = expansion{text: n.Value, ok: len(errs) == 0}
		d.written[n] = x
		if x.ok {
			n.Value, n.Style = val, 0
			n.Tag = (&yaml.Node{Kind: yaml.ScalarNode, Value: val}).ShortTag()
			if n.Tag == nullTag && val != "" {
				n.Tag = strTag // "null" from the environment may be a password
			}
		}
	}
	d.fromEnv[path] = x.text
	return x.ok
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

// describe names what a node holds for "expected X, got Y" messages. It
// quotes the text of the file, never an expanded value, which could be a
// secret taken from the environment.
func (d *decoder) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if x, ok := d.written[n]; ok {
			return fmt.Sprintf("%q (value not shown)", x.text)
		}
		if strings.Contains(n.Value, "${") {
			return fmt.Sprintf("%q (value not shown)", n.Value)
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}
