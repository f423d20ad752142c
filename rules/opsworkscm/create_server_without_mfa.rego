# METADATA
# title: OpsWorks CM server created without MFA
# description: >-
#   Someone created an OpsWorks CM (Chef Automate / Puppet Enterprise) server
#   from a session that was not MFA authenticated. The server gets admin
#   credentials and manages every node enrolled with it, so creating one is a
#   privileged act that stolen access keys should not be able to perform.
# custom:
#   id: opsworkscm.create_server_without_mfa
#   severity: high
#   attack: [{tactic: TA0001, technique: T1078.004}]
#   tags: [opsworks-cm, mfa, T1078]
#   runbook: >-
#     Ask the principal's owner whether they created the server. If not, treat
#     the credentials as compromised: deactivate the access key or revoke the
#     role sessions, delete the server, and review the principal's other calls.
#     If it was expected, require MFA for opsworks-cm:CreateServer in IAM.
#   references:
#     - https://docs.aws.amazon.com/opsworks/latest/userguide/logging-opsca-using-cloudtrail.html
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_CreateServer.html
#     - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html
#     - https://attack.mitre.org/techniques/T1078/004/
package rules.opsworkscm.create_server_without_mfa

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	input.eventName == "CreateServer"
	cloudtrail.succeeded(input)
	not cloudtrail.mfa_authenticated(input)
	not _service_call
	msg := sprintf("%s created OpsWorks CM server %q (%s) in %s from %s without MFA", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "serverName"),
		cloudtrail.request_param(input, "engine"),
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

# A service acting on someone's behalf (CloudFormation, Service Catalog) has no
# MFA session of its own; whoever started it shows up in their own event.
_service_call if input.userIdentity.type == "AWSService"

_service_call if {
	by := input.userIdentity.invokedBy
	is_string(by)
	by != ""
}
