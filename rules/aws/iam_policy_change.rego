# METADATA
# title: IAM policy changed
# description: >-
#   Someone created, deleted or versioned a managed IAM policy, attached or
#   detached one, or edited an inline policy (CIS AWS Foundations 4.4).
#   Policies are how access is granted, so an unexpected change may be
#   privilege escalation or an attacker making room to stay.
# custom:
#   id: aws.iam_policy_change
#   severity: medium
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
alert contains {"message": msg} if {
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
}
