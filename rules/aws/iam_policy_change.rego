# METADATA
# title: IAM policy changed
# description: >-
#   Someone created, deleted or versioned a managed IAM policy, attached or
#   detached one, or edited an inline policy (CIS AWS Foundations 4.4).
#   Policies are how access is granted, so an unexpected change may be
#   privilege escalation or an attacker making room to stay. Severity
#   medium for ordinary changes, which infrastructure code makes every day;
#   high (set per alert) when the change grants administrator access:
#   attaching the AWS managed AdministratorAccess policy, or writing a policy
#   with an Allow statement for every action on every resource ("*" or
#   "*:*"). That is full control of the account in one call, the usual last
#   step of a privilege escalation and the first of a backdoor user or role.
# custom:
#   id: aws.iam_policy_change
#   severity: medium
#   attack: [{tactic: TA0003, technique: T1098.003}, {tactic: TA0004, technique: T1098.003}]
#   tags: [cis-4.4, iam, privilege-escalation, persistence, T1098]
#   runbook: >-
#     Read the policy the call set (policyDocument in the event, or the policy
#     version) and confirm the change with the owner of the user, group or
#     role. Revert it if nobody expected it, and review what the principal did
#     with the access.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-4
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html
#     - https://attack.mitre.org/techniques/T1098/003/
package rules.aws.iam_policy_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.4 counts attempts as well as changes, so success is not required:
# a refused attempt to grant access is as telling as a successful one.
alert contains result if {
	input.eventSource == "iam.amazonaws.com"
	input.eventName in {
		"DeleteGroupPolicy",
		"DeleteRolePolicy",
		"DeleteUserPolicy",
		"PutGroupPolicy",
		"PutRolePolicy",
		"PutUserPolicy",
		"CreatePolicy",
		"DeletePolicy",
		"CreatePolicyVersion",
		"DeletePolicyVersion",
		"AttachRolePolicy",
		"DetachRolePolicy",
		"AttachUserPolicy",
		"DetachUserPolicy",
		"AttachGroupPolicy",
		"DetachGroupPolicy",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["userName", "groupName", "roleName", "policyName", "policyArn", "versionId"])
	result := object.union({"message": msg}, _admin_severity)
}

# Detaching or deleting takes access away; only grants are raised.
_grants := {
	"PutGroupPolicy", "PutRolePolicy", "PutUserPolicy",
	"CreatePolicy", "CreatePolicyVersion",
	"AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy",
}

_admin_severity := {"severity": "high"} if {
	input.eventName in _grants
	_grants_admin
} else := {}

_grants_admin if {
	arn := input.requestParameters.policyArn
	is_string(arn)
	endswith(arn, ":policy/AdministratorAccess")
}

_grants_admin if {
	policy := cloudtrail.policy_document(input.requestParameters.policyDocument)
	some s in cloudtrail.allow_statements(policy)
	some action in _as_list(s.Action)
	action in {"*", "*:*"}
	some resource in _as_list(s.Resource)
	resource == "*"
}

_as_list(v) := v if is_array(v)

else := [v]
