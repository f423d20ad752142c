# METADATA
# title: OpsWorks CM server or backup destroyed or overwritten
# description: >-
#   Someone deleted an OpsWorks CM server or backup, or restored a server from
#   a backup. Deleting a server deletes its automated backups too, and a
#   restore replaces the server's configuration data: each can wipe out or roll
#   back the configuration of every node it manages.
# custom:
#   id: opsworkscm.destructive_action
#   severity: high
#   attack: [{tactic: TA0040, technique: T1485}]
#   tags: [opsworks-cm, impact, T1485]
#   runbook: >-
#     Confirm the change with the server's owner or a change ticket. If nobody
#     expected it, suspend the principal's credentials, check which nodes lost
#     their configuration server, and restore from the newest remaining backup.
#   references:
#     - https://docs.aws.amazon.com/opsworks/latest/userguide/opscm-delete-server.html
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_DeleteServer.html
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_RestoreServer.html
#     - https://attack.mitre.org/techniques/T1485/
package rules.opsworkscm.destructive_action

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	input.eventName in {"DeleteServer", "DeleteBackup", "RestoreServer"}
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["serverName", "backupId"])
}
