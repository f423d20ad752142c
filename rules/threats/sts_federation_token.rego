# METADATA
# title: Federation token issued to an IAM user
# description: >-
#   An IAM user (or root) called sts:GetFederationToken. The temporary
#   credentials it returns keep working for up to 36 hours after the user's
#   access key is deactivated or deleted, and cannot be revoked by deleting
#   keys, which makes it a favourite way to keep access once a leaked key
#   is noticed. Few modern setups use it (roles and IAM Identity Center
#   replaced it). Severity medium; high when the session policy passed
#   allows every action, which is what a persistence token asks for.
# custom:
#   id: threats.sts_federation_token
#   severity: medium
#   attack: [{tactic: TA0003, technique: T1098.001}]
#   tags: [persistence, sts, temporary-credentials, T1098.001]
#   runbook: >-
#     Ask the user's owner. If unexpected, attach a policy denying everything
#     to the user with a condition on aws:TokenIssueTime (the federated
#     session inherits the user's permissions), then rotate the user's keys.
#   references:
#     - https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
#     - https://www.crowdstrike.com/en-us/blog/how-adversaries-persist-with-aws-user-federation/
#     - https://attack.mitre.org/techniques/T1098/001/
package rules.threats.sts_federation_token

import rego.v1

import data.lib.cloudtrail

alert contains result if {
	input.eventSource == "sts.amazonaws.com"
	input.eventName == "GetFederationToken"
	cloudtrail.succeeded(input)
	msg := sprintf("%s obtained a federation token named %s from %s", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "name"),
		cloudtrail.source(input),
	])
	result := object.union({"message": msg}, _severity)
}

_severity := {"severity": "high"} if _allows_everything

else := {}

_allows_everything if {
	policy := cloudtrail.policy_document(input.requestParameters.policy)
	some s in cloudtrail.allow_statements(policy)
	"*" in _as_list(s.Action)
}

_as_list(v) := v if is_array(v)

else := [v]
