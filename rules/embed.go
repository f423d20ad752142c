// Package rules holds the Rego policy packs shipped with trailguard, embedded
// into the binary.
//
// Layout of FS:
//
//	lib/            package lib.cloudtrail: helpers shared by every pack; always loaded, not a pack
//	<pack>/<rule>.rego       package rules.<pack>.<rule>, one rule per file, with a METADATA block
//	<pack>/<rule>_test.rego  package rules.<pack>.<rule>_test, its positive and negative tests
//
// The serving engine loads every .rego file in FS except the _test.rego ones
// (test packages would otherwise be evaluated on every event), and evaluates
// data.rules[pack][rule].alert[a] per CloudTrail record. `trailguard test`
// loads all of them, tests included, and runs the tests.
//
// Files must be parsed as Rego v1 with annotation processing switched on:
// each rule's metadata (custom.id, custom.severity, …) lives in its
// package-scoped METADATA block.
package rules

import "embed"

// FS holds lib/ and every pack directory. The all: prefix is there so that no
// file is skipped for its name.
//
//go:embed all:lib all:opsworkscm all:aws all:threats
var FS embed.FS

// Packs returns the names of the shipped rule packs, which are the directory
// names in FS holding rules (lib is the helper library, not a pack).
func Packs() []string {
	return []string{"aws", "opsworkscm", "threats"}
}
