# METADATA
# title: KMS key disabled or scheduled for deletion
# description: >-
#   Someone disabled a customer managed KMS key or scheduled it for deletion
#   (CIS AWS Foundations 4.7). Data encrypted under a deleted key is lost for
#   good, so this is both an outage and a way to destroy data or hold it to
#   ransom.
# custom:
#   id: aws.kms_key_disabled_or_deleted
#   severity: high
#   attack: [{tactic: TA0040, technique: T1485}]
#   tags: [cis-4.7, kms, impact, T1485]
#   runbook: >-
#     Confirm with the key's owner. If unexpected, cancel it at once:
#     CancelKeyDeletion (possible during the 7-30 day waiting period) and
#     EnableKey, then find out what the principal was after.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
#     - https://attack.mitre.org/techniques/T1485/
package rules.aws.kms_key_disabled_or_deleted

import rego.v1

import data.lib.cloudtrail

# CIS 4.7 counts attempts as well as changes, so success is not required:
# a refused attempt to destroy a key is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "kms.amazonaws.com"
	input.eventName in {
		"DisableKey",
		"ScheduleKeyDeletion",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["keyId", "pendingWindowInDays"])
}
