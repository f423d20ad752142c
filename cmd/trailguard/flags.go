package main

import (
	"flag"
	"strings"

	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/rules"
)

// listFlag collects a flag given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// policyFlags are the flags every command that loads policies shares.
type policyFlags struct {
	rules listFlag
	data  listFlag
	sigma listFlag
	packs string
	set   bool // --packs was given
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.rules, "rules", "directory or file of .rego policies and data documents (repeatable)")
	fs.Var(&p.sigma, "sigma", "file or directory of Sigma rules (.yml/.yaml; only product: aws, service: cloudtrail ones load) (repeatable)")
	fs.Var(&p.data, "data", "JSON or YAML data document merged at the root of data, e.g. known_networks (repeatable)")
	fs.Func("packs", "comma-separated built-in packs to load, or \"none\" (default: "+strings.Join(rules.Packs(), ",")+")", func(v string) error {
		p.packs, p.set = v, true
		return nil
	})
}

// options turns the flags into engine options; defaultPacks applies when
// --packs was not given.
func (p *policyFlags) options(defaultPacks []string) []engine.Option {
	packs := defaultPacks
	if p.set {
		packs = nil
		for _, n := range strings.Split(p.packs, ",") {
			if n = strings.TrimSpace(n); n != "" && n != "none" {
				packs = append(packs, n)
			}
		}
	}
	return []engine.Option{
		engine.WithPacks(packs...),
		engine.WithPolicyPaths(p.rules...),
		engine.WithDataFiles(p.data...),
		engine.WithSigma(p.sigma...),
	}
}

// extraOptions are the policy flags that add to a configuration file's rules.
func (p *policyFlags) extraOptions() []engine.Option {
	opts := []engine.Option{engine.WithPolicyPaths(p.rules...), engine.WithDataFiles(p.data...), engine.WithSigma(p.sigma...)}
	if p.set {
		opts = append(opts, p.options(nil)[0])
	}
	return opts
}
