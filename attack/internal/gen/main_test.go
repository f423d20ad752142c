package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/attack"
)

// A small STIX source in mitre/cti's layout, one bundle a file.
var stixFiles = map[string]string{
	"x-mitre-matrix/m.json": `{"type":"bundle","objects":[{"type":"x-mitre-matrix","id":"x-mitre-matrix--1",
		"external_references":[{"source_name":"mitre-attack","external_id":"enterprise-attack"}],
		"tactic_refs":["x-mitre-tactic--ia","x-mitre-tactic--pe"]}]}`,
	"x-mitre-tactic/pe.json": `{"type":"bundle","objects":[{"type":"x-mitre-tactic","id":"x-mitre-tactic--pe","name":"Persistence",
		"x_mitre_shortname":"persistence","external_references":[{"source_name":"mitre-attack","external_id":"TA0003"}]}]}`,
	"x-mitre-tactic/ia.json": `{"type":"bundle","objects":[{"type":"x-mitre-tactic","id":"x-mitre-tactic--ia","name":"Initial Access",
		"x_mitre_shortname":"initial-access","external_references":[{"source_name":"mitre-attack","external_id":"TA0001"}]}]}`,
	"attack-pattern/a.json": `{"type":"bundle","objects":[{"type":"attack-pattern","id":"attack-pattern--a","name":"Cloud Accounts",
		"external_references":[{"source_name":"capec","external_id":"CAPEC-1"},{"source_name":"mitre-attack","external_id":"T1078.004"}],
		"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"persistence"},{"kill_chain_name":"mitre-attack","phase_name":"initial-access"}]}]}`,
	"attack-pattern/revoked.json": `{"type":"bundle","objects":[{"type":"attack-pattern","id":"attack-pattern--r","name":"Old","revoked":true,
		"external_references":[{"source_name":"mitre-attack","external_id":"T1000"}],
		"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"persistence"}]}]}`,
	"attack-pattern/deprecated.json": `{"type":"bundle","objects":[{"type":"attack-pattern","id":"attack-pattern--d","name":"Gone","x_mitre_deprecated":true,
		"external_references":[{"source_name":"mitre-attack","external_id":"T1001"}],
		"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"persistence"}]}]}`,
}

func writeSource(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGenerate(t *testing.T) {
	src := writeSource(t, stixFiles)
	out := filepath.Join(t.TempDir(), "table.json")
	if err := generate(src, "", out); err == nil || !strings.Contains(err.Error(), "give -version") {
		t.Errorf("no version: %v", err)
	}
	if err := generate(src, "18.1", out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "attack_version": "18.1",
  "domain": "enterprise-attack",
  "tactics": [
    {"id":"TA0001","name":"Initial Access","shortname":"initial-access"},
    {"id":"TA0003","name":"Persistence","shortname":"persistence"}
  ],
  "techniques": [
    {"id":"T1078.004","name":"Cloud Accounts","tactics":["TA0001","TA0003"]}
  ]
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	withCollection := map[string]string{"c.json": `{"type":"bundle","objects":[{"type":"x-mitre-collection","id":"x-mitre-collection--1","x_mitre_version":"18.0"}]}`}
	for k, v := range stixFiles {
		withCollection[k] = v
	}
	src = writeSource(t, withCollection)
	if err := generate(src, "18.1", out); err == nil || !strings.Contains(err.Error(), "the source is ATT&CK 18.0") {
		t.Errorf("version conflict: %v", err)
	}
	if err := generate(src, "", out); err != nil {
		t.Errorf("version from the collection: %v", err)
	}
}

// TestCommittedTableIsGenerated checks the shipped table is in the form the
// generator writes, so a hand edit shows up as a failing test.
func TestCommittedTableIsGenerated(t *testing.T) {
	data, err := os.ReadFile("../../enterprise-attack.json")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := attack.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := write(&b, tab); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), data) {
		t.Error("enterprise-attack.json is not as ./internal/gen writes it")
	}
}
