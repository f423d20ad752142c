# METADATA
# title: CloudTrail configuration changed
# description: >-
#   Someone created, updated or deleted a trail, or started or stopped its
#   logging (CIS AWS Foundations 4.5). Stopping or redirecting a trail is how
#   an attacker blinds monitoring, including this tool.
# custom:
#   id: aws.cloudtrail_change
#   severity: high
#   attack: [{tactic: TA0005, technique: T1562.008}]
#   tags: [cis-4.5, cloudtrail, defense-evasion, T1562.008]
#   runbook: >-
#     Confirm the change with whoever owns logging. If a trail was stopped,
#     deleted or pointed elsewhere unexpectedly, restore it first
#     (StartLogging, or recreate it), then investigate the principal:
#     everything it did next may be missing from that trail.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-5
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html
#     - https://attack.mitre.org/techniques/T1562/008/
package rules.aws.cloudtrail_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.5 counts attempts as well as changes, so success is not required:
# an attempt to stop logging is worth knowing about even when it fails.
alert contains {"message": msg} if {
	input.eventSource == "cloudtrail.amazonaws.com"
	input.eventName in {
		"CreateTrail",
		"UpdateTrail",
		"DeleteTrail",
		"StartLogging",
		"StopLogging",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["name", "s3BucketName"])
}
