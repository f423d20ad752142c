# METADATA
# title: OpsWorks CM automated backups disabled
# description: >-
#   Someone created or updated an OpsWorks CM server with automated backups
#   disabled. Without backups a deleted or corrupted server cannot be restored,
#   and switching them off is a common step before destroying data.
# custom:
#   id: opsworkscm.backups_weakened
#   severity: medium
#   attack: [{tactic: TA0040, technique: T1490}]
#   tags: [opsworks-cm, backup, T1490]
#   runbook: >-
#     Ask the server's owner why backups were disabled. Unless there is a good
#     reason, re-enable them with UpdateServer (disableAutomatedBackup false)
#     and take a manual backup now.
#   references:
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_UpdateServer.html
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_CreateServer.html
#     - https://attack.mitre.org/techniques/T1490/
package rules.opsworkscm.backups_weakened

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	input.eventName in {"CreateServer", "UpdateServer"}
	input.requestParameters.disableAutomatedBackup == true
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["serverName", "disableAutomatedBackup"])
}
