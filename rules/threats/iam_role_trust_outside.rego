# METADATA
# title: IAM role trusts an account outside the organisation
# description: >-
#   A role was created, or its trust policy changed, so that an AWS account
#   outside the organisation (not the account itself, not in
#   data.known_accounts), or anyone at all ("*"), may assume it. Whoever
#   controls that account then holds the role's permissions from their own
#   side, with no credentials in this account to revoke: the standard AWS
#   backdoor. Severity high: trusts with third parties are rare and planned,
#   and list their accounts in known_accounts; a trust with everyone is
#   never right.
# custom:
#   id: threats.iam_role_trust_outside
#   severity: high
#   attack:
#     - {tactic: TA0003, technique: T1098.003}
#     - {tactic: TA0004, technique: T1098.003}
#   tags: [persistence, privilege-escalation, iam, trust-policy, T1098.003]
#   runbook: >-
#     Read the trust policy in requestParameters. If the outside account is
#     not a known partner, remove it from the policy, then look for
#     AssumeRole calls on the role from that account (CloudTrail records them
#     in this account).
#   references:
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
#     - https://attack.mitre.org/techniques/T1098/003/
package rules.threats.iam_role_trust_outside

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "iam.amazonaws.com"
	input.eventName in {"CreateRole", "UpdateAssumeRolePolicy"}
	cloudtrail.succeeded(input)
	policy := cloudtrail.policy_document(_trust_policy)
	outside := cloudtrail.policy_outside_accounts(input, policy)
	count(outside) > 0
	msg := sprintf("%s let %s assume IAM role %s (%s) from %s", [
		cloudtrail.principal(input),
		_who(outside),
		cloudtrail.request_param(input, "roleName"),
		input.eventName,
		cloudtrail.source(input),
	])
}

# CreateRole names it assumeRolePolicyDocument, UpdateAssumeRolePolicy
# policyDocument.
_trust_policy := input.requestParameters.assumeRolePolicyDocument if input.eventName == "CreateRole"

else := input.requestParameters.policyDocument

_who(outside) := "everyone" if "*" in outside

else := sprintf("account %s", [concat(", ", sort(outside))])
