# METADATA
# title: OpsWorks CM call denied
# description: >-
#   An OpsWorks CM call was refused for lack of permission. Repeated refusals
#   are a typical sign of stolen credentials being used to find out what they
#   can reach, or of automation running with the wrong role.
# custom:
#   id: opsworkscm.access_denied
#   severity: medium
#   attack: [{tactic: TA0007, technique: T1580}]
#   tags: [opsworks-cm, discovery, T1580]
#   runbook: >-
#     Check whether the principal is expected to use OpsWorks CM at all. A
#     one-off from a person is usually a mistake; a burst of different calls,
#     or calls from an unusual address, means investigate the credentials.
#   references:
#     - https://docs.aws.amazon.com/opsworks/latest/userguide/logging-opsca-using-cloudtrail.html
#     - https://attack.mitre.org/techniques/T1580/
package rules.opsworkscm.access_denied

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	cloudtrail.denied(input)
	msg := cloudtrail.describe_call(input, ["serverName", "backupId"])
}
