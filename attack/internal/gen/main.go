// Command gen writes attack/enterprise-attack.json, the table of ATT&CK
// Enterprise tactics and techniques that trailguard validates rule METADATA
// against, from MITRE's published STIX 2 data.
//
// Its source is either a STIX bundle (enterprise-attack/enterprise-attack-18.1.json
// of github.com/mitre-attack/attack-stix-data) or a directory of bundles, read
// recursively (enterprise-attack/ of github.com/mitre/cti, one object a file):
//
//	go run ./attack/internal/gen -src ../cti/enterprise-attack -version 18.1 -o attack/enterprise-attack.json
//
// -version is needed when the source has no x-mitre-collection object (the
// per-object layout of mitre/cti has none); when it has one, they must agree.
// Revoked and deprecated objects are left out: a rule should not be mapped to
// an id ATT&CK itself has withdrawn.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trailguard/trailguard/attack"
)

func main() {
	src := flag.String("src", "", "STIX bundle file, or a directory of them (read recursively)")
	version := flag.String("version", "", "ATT&CK version of the source, e.g. 18.1 (default: the bundle's x-mitre-collection)")
	out := flag.String("o", "attack/enterprise-attack.json", "file to write")
	flag.Parse()
	if err := generate(*src, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// object holds the fields of a STIX object the table is made of.
type object struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Revoked    bool     `json:"revoked"`
	Deprecated bool     `json:"x_mitre_deprecated"`
	Shortname  string   `json:"x_mitre_shortname"`
	Version    string   `json:"x_mitre_version"`
	TacticRefs []string `json:"tactic_refs"`
	References []struct {
		Source     string `json:"source_name"`
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
	Phases []struct {
		Chain string `json:"kill_chain_name"`
		Phase string `json:"phase_name"`
	} `json:"kill_chain_phases"`
}

// attackID is the object's ATT&CK id (TA0005, T1562.008).
func (o *object) attackID() string {
	for _, r := range o.References {
		if r.Source == "mitre-attack" {
			return r.ExternalID
		}
	}
	return ""
}

func (o *object) live() bool { return !o.Revoked && !o.Deprecated }

func generate(src, version, out string) error {
	if src == "" {
		return errors.New("-src is required")
	}
	objs, err := readObjects(src)
	if err != nil {
		return err
	}
	t, err := build(objs, version)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := write(&b, t); err != nil {
		return err
	}
	// Check what was written reads back as the package will read it.
	if _, err := attack.Parse(b.Bytes()); err != nil {
		return fmt.Errorf("the generated table does not load: %w", err)
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

func readObjects(src string) ([]object, error) {
	var objs []object
	read := func(path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var bundle struct {
			Objects []object `json:"objects"`
		}
		if err := json.Unmarshal(data, &bundle); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		objs = append(objs, bundle.Objects...)
		return nil
	}
	info, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return objs, read(src)
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		return read(path)
	})
	return objs, err
}

// build makes the table: tactics in the order of the Enterprise matrix,
// techniques by id, each with the tactics its kill-chain phases name.
func build(objs []object, version string) (*attack.Table, error) {
	byRef := map[string]*object{}
	var matrix *object
	for i := range objs {
		o := &objs[i]
		byRef[o.ID] = o
		switch o.Type {
		case "x-mitre-matrix":
			if o.live() && o.attackID() == "enterprise-attack" {
				matrix = o
			}
		case "x-mitre-collection":
			if version == "" {
				version = o.Version
			} else if o.Version != version {
				return nil, fmt.Errorf("-version %s, but the source is ATT&CK %s", version, o.Version)
			}
		}
	}
	if version == "" {
		return nil, errors.New("the source names no ATT&CK version: give -version")
	}
	if matrix == nil {
		return nil, errors.New("the source has no enterprise-attack x-mitre-matrix")
	}
	t := &attack.Table{AttackVersion: version, Domain: "enterprise-attack"}
	byShort := map[string]string{}
	order := map[string]int{}
	for i, ref := range matrix.TacticRefs {
		o := byRef[ref]
		if o == nil || !o.live() {
			return nil, fmt.Errorf("matrix names tactic %s, which is missing or withdrawn", ref)
		}
		t.Tactics = append(t.Tactics, attack.Tactic{ID: o.attackID(), Name: o.Name, Shortname: o.Shortname})
		byShort[o.Shortname] = o.attackID()
		order[o.attackID()] = i
	}
	for i := range objs {
		o := &objs[i]
		if o.Type != "attack-pattern" || !o.live() {
			continue
		}
		tech := attack.Technique{ID: o.attackID(), Name: o.Name}
		for _, p := range o.Phases {
			if p.Chain != "mitre-attack" {
				continue
			}
			id, ok := byShort[p.Phase]
			if !ok {
				return nil, fmt.Errorf("technique %s: unknown tactic %q", tech.ID, p.Phase)
			}
			tech.Tactics = append(tech.Tactics, id)
		}
		sort.Slice(tech.Tactics, func(i, j int) bool { return order[tech.Tactics[i]] < order[tech.Tactics[j]] })
		t.Techniques = append(t.Techniques, tech)
	}
	sort.Slice(t.Techniques, func(i, j int) bool { return t.Techniques[i].ID < t.Techniques[j].ID })
	return t, nil
}

// write puts one tactic or technique a line, so that a new ATT&CK release
// reads as a short diff.
func write(b *bytes.Buffer, t *attack.Table) error {
	line := func(v any, last bool) error {
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.WriteString("    ")
		b.Write(j)
		if !last {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		return nil
	}
	fmt.Fprintf(b, "{\n  \"attack_version\": %q,\n  \"domain\": %q,\n  \"tactics\": [\n", t.AttackVersion, t.Domain)
	for i, x := range t.Tactics {
		if err := line(x, i == len(t.Tactics)-1); err != nil {
			return err
		}
	}
	b.WriteString("  ],\n  \"techniques\": [\n")
	for i, x := range t.Techniques {
		if err := line(x, i == len(t.Techniques)-1); err != nil {
			return err
		}
	}
	b.WriteString("  ]\n}\n")
	return nil
}
