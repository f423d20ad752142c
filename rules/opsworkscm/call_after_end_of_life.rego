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

# Compares instants, not strings, so offsets other than Z work. An eventTime
# that is missing or cannot be parsed makes the rule undefined, not an error.
alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	cloudtrail.event_time_ns(input) >= time.parse_rfc3339_ns(_end_of_life)
	msg := sprintf("%s at %s, after OpsWorks CM reached end of life on %s", [
		cloudtrail.describe_call(input, ["serverName"]),
		input.eventTime,
		substring(_end_of_life, 0, 10),
	])
}
