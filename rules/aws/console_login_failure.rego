# METADATA
# title: Console sign-in failed
# description: >-
#   A sign-in to the AWS console failed (CIS AWS Foundations 4.6). A single
#   failure is usually a typo; several in a row, or failures for many users, are
#   password guessing or credential stuffing.
# custom:
#   id: aws.console_login_failure
#   severity: medium
#   attack: [{tactic: TA0006, technique: T1110}]
#   tags: [cis-4.6, iam, credential-access, T1110]
#   runbook: >-
#     Check how many failures the user and the source address had recently. If
#     the user did not try to sign in, make sure they have MFA and a strong
#     password, and consider blocking the source address.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-6
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
#     - https://attack.mitre.org/techniques/T1110/
package rules.aws.console_login_failure

import rego.v1

import data.lib.cloudtrail

# CIS 4.6 matches errorMessage "Failed authentication"; the response's
# "Failure" also covers failures with other messages (unknown user name).
# Both hold for a typical failure: the alert set keeps one copy.
alert contains {"message": _message} if {
	input.eventName == "ConsoleLogin"
	input.errorMessage == "Failed authentication"
}

alert contains {"message": _message} if {
	input.eventName == "ConsoleLogin"
	input.responseElements.ConsoleLogin == "Failure"
}

# A failed sign-in has no ARN for an IAM user that does not exist or whose
# password was wrong; principal falls back to "IAMUser <userName>".
_message := sprintf("AWS console sign-in failed for %s from %s%s", [
	cloudtrail.principal(input),
	cloudtrail.source(input),
	_reason,
])

_reason := sprintf(" (%s)", [input.errorMessage]) if {
	is_string(input.errorMessage)
	input.errorMessage != ""
} else := ""
