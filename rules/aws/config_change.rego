# METADATA
# title: AWS Config configuration changed
# description: >-
#   Someone stopped or changed an AWS Config configuration recorder or
#   delivery channel (CIS AWS Foundations 4.9). Config keeps the history of
#   resource configurations that investigations and compliance checks rely on;
#   turning it off hides what changes next.
# custom:
#   id: aws.config_change
#   severity: high
#   attack: [{tactic: TA0005, technique: T1562.008}]
#   tags: [cis-4.9, config, defense-evasion, T1562.008]
#   runbook: >-
#     Confirm the change with whoever owns AWS Config. If the recorder was
#     stopped or the delivery channel removed or redirected unexpectedly,
#     restore them (StartConfigurationRecorder, PutDeliveryChannel) and review
#     the principal's other calls.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-9
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/config/latest/developerguide/log-api-calls.html
#     - https://attack.mitre.org/techniques/T1562/008/
package rules.aws.config_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.9 counts attempts as well as changes, so success is not required:
# a refused attempt to stop recording is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "config.amazonaws.com"
	input.eventName in {
		"StopConfigurationRecorder",
		"DeleteDeliveryChannel",
		"PutDeliveryChannel",
		"PutConfigurationRecorder",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["configurationRecorderName", "deliveryChannelName"])
}
