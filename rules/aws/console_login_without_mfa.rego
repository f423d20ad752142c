# METADATA
# title: Console sign-in without MFA
# description: >-
#   An IAM user or the root user signed in to the AWS console with a password
#   alone (CIS AWS Foundations 4.2). A console password without MFA is one
#   phishing email away from an attacker's console session. Severity high for
#   an IAM user; critical (set per alert) for the root user: root cannot be
#   limited by any policy, can close the account or change its contact
#   details, and AWS requires MFA on it, so a password-only root sign-in is
#   either a serious misconfiguration or someone else holding the password.
# custom:
#   id: aws.console_login_without_mfa
#   severity: high
#   attack: [{tactic: TA0001, technique: T1078.004}]
#   tags: [cis-4.2, iam, mfa, initial-access, T1078.004]
#   runbook: >-
#     Ask the user whether they signed in from this address. If not, reset the
#     password, revoke their sessions and review their activity since the
#     sign-in. Either way, require an MFA device for the user.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-3
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
#     - https://attack.mitre.org/techniques/T1078/004/
package rules.aws.console_login_without_mfa

import rego.v1

import data.lib.cloudtrail

# IAM users and root: federated (SAML) users and assumed roles authenticate,
# MFA included, at their identity provider. aws.root_usage reports every root
# sign-in as well; this rule says the sign-in had no MFA.
alert contains result if {
	input.eventName == "ConsoleLogin"
	input.eventSource == "signin.amazonaws.com"
	input.userIdentity.type in {"IAMUser", "Root"}
	input.responseElements.ConsoleLogin == "Success"
	not _mfa_used
	not _saml
	msg := sprintf("%s signed in to the AWS console without MFA from %s", [
		cloudtrail.principal(input),
		cloudtrail.source(input),
	])
	result := object.union({"message": msg}, _root_severity)
}

_root_severity := {"severity": "critical"} if input.userIdentity.type == "Root"

else := {}

# CloudTrail writes "Yes" or "No", but also "YES" (console sign-in example07).
_mfa_used if {
	used := input.additionalEventData.MFAUsed
	is_string(used)
	lower(used) == "yes"
}

_saml if {
	arn := input.additionalEventData.SamlProviderArn
	is_string(arn)
	arn != ""
}
