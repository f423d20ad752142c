# METADATA
# title: Access key created for another IAM user
# description: >-
#   A principal created an access key for an IAM user other than itself.
#   A second key on someone else's user is a classic persistence move: it
#   keeps working after the intruder's own credentials are revoked, and
#   belongs to a user nobody watches. Users creating their own keys are not
#   reported. Severity medium: administrators do create keys for service
#   users, but rarely, and usually through infrastructure code you can
#   recognise.
# custom:
#   id: threats.iam_access_key_for_other_user
#   severity: medium
#   attack:
#     - {tactic: TA0003, technique: T1098.001}
#     - {tactic: TA0004, technique: T1098.001}
#   tags: [persistence, privilege-escalation, iam, access-key, T1098.001]
#   runbook: >-
#     Ask the user's owner whether the key is expected. If not, deactivate and
#     delete it (the accessKeyId is in responseElements), then review what
#     the key and the creating principal did.
#   references:
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
#     - https://attack.mitre.org/techniques/T1098/001/
package rules.threats.iam_access_key_for_other_user

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "iam.amazonaws.com"
	input.eventName == "CreateAccessKey"
	cloudtrail.succeeded(input)
	user := input.requestParameters.userName
	cloudtrail.is_other_principal(input, user)
	msg := sprintf("%s created an access key for IAM user %s from %s", [
		cloudtrail.principal(input),
		user,
		cloudtrail.source(input),
	])
}
