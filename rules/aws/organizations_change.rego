# METADATA
# title: AWS Organizations changed
# description: >-
#   Someone changed the AWS Organization: accounts, organizational units,
#   handshakes or policies such as SCPs (CIS AWS Foundations 4.15). Detaching
#   an SCP lifts guardrails from every account below it, and an account that
#   leaves the organization escapes them entirely.
# custom:
#   id: aws.organizations_change
#   severity: high
#   attack: [{tactic: TA0005, technique: T1666}]
#   tags: [cis-4.15, organizations, defense-evasion, T1666]
#   runbook: >-
#     Confirm the change with the organization's administrators. Reattach
#     detached SCPs, undo unexpected account moves or invitations, and review
#     the principal's other calls; organization changes are made from the
#     management account, so treat its credentials as sensitive.
#   references:
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
#     - https://attack.mitre.org/techniques/T1666/
package rules.aws.organizations_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.15 counts attempts as well as changes, so success is not required:
# a refused attempt to loosen guardrails is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "organizations.amazonaws.com"
	input.eventName in {
		"AcceptHandshake",
		"AttachPolicy",
		"CreateAccount",
		"CreateOrganizationalUnit",
		"CreatePolicy",
		"DeclineHandshake",
		"DeleteOrganization",
		"DeleteOrganizationalUnit",
		"DeletePolicy",
		"DetachPolicy",
		"DisablePolicyType",
		"EnablePolicyType",
		"InviteAccountToOrganization",
		"LeaveOrganization",
		"MoveAccount",
		"RemoveAccountFromOrganization",
		"UpdatePolicy",
		"UpdateOrganizationalUnit",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["accountId", "accountName", "organizationalUnitId", "policyId", "policyType", "targetId", "handshakeId", "name"])
}
