package config

import (
	"errors"
	"log/slog"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard/alert"
)

// scalars says what a value of each non-string type must be: the words of
// the "expected ..." message, and the YAML tag it needs when yaml.v3 would
// otherwise accept more (it takes "yes" for true and 2.5 for 2).
var scalars = map[reflect.Type]struct{ want, tag string }{
	reflect.TypeFor[int]():            {"an integer", intTag},
	reflect.TypeFor[bool]():           {"true or false", boolTag},
	reflect.TypeFor[time.Duration]():  {"a duration such as 30s, 5m or 1h", ""},
	reflect.TypeFor[slog.Level]():     {"one of debug, info, warn, error", ""},
	reflect.TypeFor[alert.Severity](): {"one of info, low, medium, high, critical", ""},
	timeType:                          {"a date (2006-01-02) or an RFC 3339 time (2006-01-02T15:04:05Z)", ""},
}

// scalar decodes a single value into v. An empty value (key:, null, "" or a
// variable set to "") leaves the default in place.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	val, ok := d.text(n, path)
	if !ok {
		return
	}
	s := scalars[v.Type()]
	var err error
	switch {
	case s.tag != "" && n.ShortTag() != s.tag:
		err = errors.New("wrong type")
	case v.Type() == timeType:
		t, perr := time.Parse(time.DateOnly, val)
		if perr != nil {
			t, perr = time.Parse(time.RFC3339, val)
		}
		v.Set(reflect.ValueOf(t))
		err = perr
	default: // strings take any scalar as written: name: 42 is "42"
		err = n.Decode(v.Addr().Interface())
	}
	if err != nil {
		// yaml.v3's message quotes the value, which may have come from the
		// environment: say what was expected instead.
		d.failf(n.Line, path, "expected %s, got %s", s.want, d.describe(n))
	}
}

// text expands and returns a single value; ok is false, with the problem
// reported, when n is not a scalar or expansion failed, and silently when the
// value is empty.
func (d *decoder) text(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.failf(n.Line, path, "expected a single value, got %s", d.describe(n))
		return "", false
	}
	if !d.expand(n, path) || n.Value == "" || n.ShortTag() == nullTag {
		return "", false
	}
	return n.Value, true
}
