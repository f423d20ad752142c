# METADATA
# title: Console password set for another IAM user
# description: >-
#   A principal created or changed the console password (login profile) of
#   an IAM user other than itself. Creating one gives console access to a
#   user meant for programs; changing one takes over a person's user, with
#   all its permissions. Users changing their own password are not reported.
#   Severity medium for a new login profile, high for a changed password:
#   a reset locks the real owner out, and few organisations reset passwords
#   by API instead of through their identity provider.
# custom:
#   id: threats.iam_login_profile_for_other_user
#   severity: medium
#   attack:
#     - {tactic: TA0003, technique: T1098.001}
#     - {tactic: TA0004, technique: T1098}
#   tags: [persistence, privilege-escalation, iam, console, T1098.001]
#   runbook: >-
#     Ask the user's owner. If unexpected, delete the login profile (or reset
#     the password yourself and require a change), revoke the user's console
#     sessions, and review what the creating principal did.
#   references:
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateLoginProfile.html
#     - https://attack.mitre.org/techniques/T1098/001/
package rules.threats.iam_login_profile_for_other_user

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "iam.amazonaws.com"
	input.eventName == "CreateLoginProfile"
	cloudtrail.succeeded(input)
	user := input.requestParameters.userName
	cloudtrail.is_other_principal(input, user)
	msg := sprintf("%s gave IAM user %s a console password from %s", [
		cloudtrail.principal(input),
		user,
		cloudtrail.source(input),
	])
}

alert contains {"message": msg, "severity": "high"} if {
	input.eventSource == "iam.amazonaws.com"
	input.eventName == "UpdateLoginProfile"
	cloudtrail.succeeded(input)
	user := input.requestParameters.userName
	cloudtrail.is_other_principal(input, user)
	msg := sprintf("%s changed the console password of IAM user %s from %s", [
		cloudtrail.principal(input),
		user,
		cloudtrail.source(input),
	])
}
