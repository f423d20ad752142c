package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/trailguard/trailguard/attack"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/rules"
)

const rulesHelp = "Lists every loaded rule, by id: severity, pack, MITRE ATT&CK® mapping (tactic/technique, from\n" +
	"METADATA custom.attack), stateful kind and title, as an aligned table or JSON. With --navigator it writes\n" +
	"instead an ATT&CK Navigator layer (format " + attack.LayerFormatVersion + ") of the techniques the rules cover, to open in\n" +
	"Navigator. Exit 0: listed; 2: usage or policy problems."

func setupRules(flags *flag.FlagSet, std stdio) action {
	var pf policyFlags
	pf.register(flags)
	format := flags.String("format", "text", "output format: text (aligned table) or json")
	navigator := flags.Bool("navigator", false, "write an ATT&CK Navigator layer (JSON) of the rules' coverage instead of the list")
	return func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitUsage, usagef("unexpected arguments %q", args)
		}
		if *format != "text" && *format != "json" {
			return exitUsage, usagef("--format must be text or json, not %q", *format)
		}
		eng, err := engine.New(ctx, pf.options(rules.Packs())...)
		if err != nil {
			return exitUsage, fmt.Errorf("loading policies: %w", err)
		}
		for _, w := range eng.Warnings() {
			fmt.Fprintln(std.err, "warning:", w)
		}
		for _, n := range eng.Notes() {
			fmt.Fprintln(std.err, "note:", n)
		}
		list := eng.Rules()
		switch {
		case *navigator:
			err = writeLayer(std.out, list)
		case *format == "json":
			err = writeRulesJSON(std.out, list)
		default:
			err = writeRulesText(std.out, list)
		}
		if err != nil {
			return exitBad, err
		}
		return exitOK, nil
	}
}

// ruleListing is a rule as `trailguard rules --format json` prints it.
type ruleListing struct {
	engine.Rule
	// Stateful names the kind of stateful detection (threshold, distinct, new
	// value, sequence) the rule declares; empty for a rule on single events.
	Stateful string `json:"stateful"`
}

func writeRulesJSON(w io.Writer, list []engine.Rule) error {
	kinds := engine.StatefulKinds(list)
	out := make([]ruleListing, len(list))
	for i, r := range list {
		out[i] = ruleListing{Rule: r, Stateful: kinds[r.ID]}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeRulesText(w io.Writer, list []engine.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tPACK\tATT&CK\tSTATEFUL\tTITLE")
	kinds := engine.StatefulKinds(list)
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Pack, orDash(attackColumn(r.Attack)), orDash(kinds[r.ID]), r.Title)
	}
	return tw.Flush()
}

// attackColumn is a rule's mappings as TA0005/T1562.008,TA0003.
func attackColumn(ms []attack.Mapping) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeLayer(w io.Writer, list []engine.Rule) error {
	byRule := make(map[string][]attack.Mapping, len(list))
	mapped := 0
	for _, r := range list {
		if len(r.Attack) > 0 {
			byRule[r.ID] = r.Attack
			mapped++
		}
	}
	desc := fmt.Sprintf("Techniques detected by %d of the %d rules loaded in %s; a technique's score is the number of rules on it.",
		mapped, len(list), versionString())
	layer, err := attack.Enterprise().CoverageLayer("trailguard coverage", desc, byRule)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(layer)
}
