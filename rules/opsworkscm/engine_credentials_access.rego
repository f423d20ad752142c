# METADATA
# title: OpsWorks CM engine credentials reset or exported
# description: >-
#   Someone reset an engine attribute of an OpsWorks CM server (the Chef
#   pivotal key or admin password, the Puppet admin password) or exported one
#   (the user data that enrols nodes). Either hands the caller credentials that
#   control every node the server manages, outside IAM.
# custom:
#   id: opsworkscm.engine_credentials_access
#   severity: high
#   attack: [{tactic: TA0003, technique: T1098}]
#   tags: [opsworks-cm, credential-access, T1098]
#   runbook: >-
#     Confirm with the server's owner that the reset or export was planned. If
#     not, reset the engine credentials again from a trusted session, rotate
#     anything the exported user data contained, and suspend the principal.
#   references:
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_UpdateServerEngineAttributes.html
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_ExportServerEngineAttribute.html
#     - https://attack.mitre.org/techniques/T1098/
package rules.opsworkscm.engine_credentials_access

import rego.v1

import data.lib.cloudtrail

# The message names the attribute but never its value (attributeValue can be
# the new password, if CloudTrail did not redact it).
alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	input.eventName in {"UpdateServerEngineAttributes", "ExportServerEngineAttribute"}
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["serverName", "attributeName", "exportAttributeName"])
}
