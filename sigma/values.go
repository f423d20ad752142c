package sigma

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var reFlags = []string{"i", "m", "s"}

// valuesOf turns one YAML scalar into the values it stands for.
func valuesOf(n *yaml.Node, kind, affix string, transforms []string, opts Options) ([]val, error) {
	switch kind {
	case "re":
		return []val{{kind: vRegex, re: n.Value}}, nil // flags and compilation: see finishRegex
	case "cidr":
		if _, err := netip.ParsePrefix(n.Value); err != nil {
			return nil, fmt.Errorf("cidr %q: %w", n.Value, err)
		}
		return []val{{kind: vCIDR, cidr: n.Value}}, nil
	case "lt", "lte", "gt", "gte":
		num, ok := numberText(n)
		if !ok {
			return nil, fmt.Errorf("%s takes a number, got %q", kind, n.Value)
		}
		op := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[kind]
		return []val{{kind: vCompare, num: num, op: op}}, nil
	}
	plain := affix == "" && len(transforms) == 0
	if plain && n.Tag == "!!bool" {
		b := n.Value == "true"
		return []val{{kind: vBool, b: b, pat: literalPattern(strconv.FormatBool(b))}}, nil
	}
	if num, ok := numberText(n); ok && plain && n.Tag != "!!str" {
		return []val{{kind: vNumber, num: num, pat: literalPattern(num)}}, nil
	}
	raws := []string{n.Value}
	if len(transforms) > 0 && transforms[0] == "expand" {
		var err error
		if raws, err = expand(n.Value, opts.Placeholders); err != nil {
			return nil, err
		}
		transforms = transforms[1:]
	}
	var pats []pattern
	for _, r := range raws {
		pats = append(pats, parsePattern(r))
	}
	for _, tr := range transforms {
		var next []pattern
		for _, p := range pats {
			switch tr {
			case "base64":
				q, err := base64Of(p)
				if err != nil {
					return nil, err
				}
				next = append(next, q)
			case "base64offset":
				qs, err := base64Offsets(p)
				if err != nil {
					return nil, err
				}
				next = append(next, qs...)
			case "windash":
				qs, err := windash(p)
				if err != nil {
					return nil, err
				}
				next = append(next, qs...)
			}
		}
		pats = next
	}
	out := make([]val, 0, len(pats))
	for _, p := range pats {
		out = append(out, val{kind: vPattern, pat: p.wrap(affix == "contains" || affix == "endswith", affix == "contains" || affix == "startswith")})
	}
	return out, nil
}

// numberText is a YAML number's JSON text.
func numberText(n *yaml.Node) (string, bool) {
	switch n.Tag {
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !isInfOrNaN(f) {
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
	}
	return "", false
}

func isInfOrNaN(f float64) bool {
	return f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308
}

// finishRegex adds the flags (the modifiers after re) to each regex and
// compiles it with Go's RE2, which is what OPA's regex.match uses.
func finishRegex(t *test, source string) error {
	var flags string
	for _, m := range strings.Split(source, "|")[1:] {
		for _, f := range reFlags {
			if m == f {
				flags += f
			}
		}
	}
	for i, v := range t.vals {
		if v.kind != vRegex {
			continue
		}
		re := v.re
		if flags != "" {
			re = "(?" + flags + ")" + re
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("re %q: RE2 cannot compile it: %w", v.re, err)
		}
		t.vals[i].re = re
	}
	return nil
}
