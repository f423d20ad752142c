package testharness

import "fmt"

// MarkerRule is a custom rule, custom.marker, whose alert message says which
// version of it raised the alert; it matches Marker events.
func MarkerRule(version string) string {
	return fmt.Sprintf(`# METADATA
# title: Marker %[1]s
# description: A rule that the reload scenarios rewrite while events flow.
# custom:
#   id: custom.marker
#   severity: high
package rules.custom.marker

import rego.v1

alert contains {"message": "marker %[1]s"} if {
	input.eventName == "PutMarker"
}
`, version)
}

// BrokenRule is MarkerRule that does not parse: the comparison on line 12
// lacks its right-hand side, which the parser notices at the "}" on line 13,
// column 1.
const BrokenRule = `# METADATA
# title: Marker broken
# description: A rule that the reload scenarios rewrite while events flow.
# custom:
#   id: custom.marker
#   severity: high
package rules.custom.marker

import rego.v1

alert contains {"message": "marker broken"} if {
	input.eventName ==
}
`

// Marker is an event that only MarkerRule alerts on.
func Marker() Record {
	return Event("markers.example.amazonaws.com", "PutMarker", IAMUser("ops"), "192.0.2.10", "aws-cli/2.15.30")
}
