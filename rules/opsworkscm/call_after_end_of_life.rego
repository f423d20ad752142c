# METADATA
# title: OpsWorks CM called after its end of life
# description: >-
#   Someone called the OpsWorks CM API on or after 2024-05-05, when AWS retired
#   the service (OpsWorks for Puppet Enterprise already on 2024-03-31). Nothing
#   legitimate uses it any more: a call means forgotten automation still holding
#   credentials, or someone probing what stolen credentials can reach.
# custom:
#   id: opsworkscm.call_after_end_of_life
#   severity: low
#   attack: [{tactic: TA0007, technique: T1580}]
#   tags: [opsworks-cm, end-of-life, hygiene, T1580]
#   runbook: >-
#     Find the caller from the principal and user agent. If it is old
#     automation, remove it and its opsworks-cm permissions. If nobody knows
#     the caller, review the principal's other recent calls.
#   references:
#     - https://docs.aws.amazon.com/opsworks/latest/userguide/opscm-a2upgrade.html
#     - https://docs.aws.amazon.com/opsworks/latest/userguide/logging-opsca-using-cloudtrail.html
package rules.opsworkscm.call_after_end_of_life

import rego.v1

import data.lib.cloudtrail

_end_of_life := "2024-05-05T00:00:00Z"

alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	t := input.eventTime
	is_string(t)

	# Cheap and sound: a time whose date is before the 4th is before the end of
	# life in any time zone (offsets are under a day), and every opsworks-cm
	# call before its retirement stops here, before any function call.
	t >= "2024-05-04"
	_after_end_of_life(t)
	msg := sprintf("%s at %s, after OpsWorks CM reached end of life on %s", [
		cloudtrail.describe_call(input, ["serverName"]),
		input.eventTime,
		substring(_end_of_life, 0, 10),
	])
}

# CloudTrail writes eventTime as YYYY-MM-DDTHH:MM:SSZ, which orders as text:
# comparing strings is much cheaper than validating and parsing the time.
_after_end_of_life(t) if {
	is_string(t)
	count(t) == 20
	endswith(t, "Z")
	t >= _end_of_life
}

# Other forms (fractions, offsets) are compared as instants. An eventTime that
# is missing or cannot be parsed makes the rule undefined, not an error.
_after_end_of_life(t) if {
	not _cloudtrail_form(t)
	cloudtrail.event_time_ns({"eventTime": t}) >= time.parse_rfc3339_ns(_end_of_life)
}

_cloudtrail_form(t) if {
	is_string(t)
	count(t) == 20
	endswith(t, "Z")
}
