# METADATA
# title: Root credentials used on OpsWorks CM
# description: >-
#   The account's root user called the OpsWorks CM API. Root is never needed
#   to manage OpsWorks CM servers and cannot be limited by IAM, so any such
#   call, allowed or refused, is either a serious bad habit or someone holding
#   the root credentials.
# custom:
#   id: opsworkscm.root_credentials
#   severity: critical
#   attack: [{tactic: TA0001, technique: T1078.004}, {tactic: TA0004, technique: T1078.004}]
#   tags: [opsworks-cm, root, T1078.004]
#   runbook: >-
#     Find out who holds the root credentials and whether this was them. If not,
#     change the root password, replace its MFA device, delete any root access
#     keys, and review everything root did around this time.
#   references:
#     - https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html
#     - https://docs.aws.amazon.com/opsworks/latest/userguide/logging-opsca-using-cloudtrail.html
package rules.opsworkscm.root_credentials

import rego.v1

import data.lib.cloudtrail

# Failed calls count as well: a refused call still proves someone has them.
alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	cloudtrail.root_actor(input)
	msg := sprintf("Root credentials used on OpsWorks CM: %s", [
		cloudtrail.describe_call(input, ["serverName", "backupId"]),
	])
}
