# METADATA
# title: Bedrock model invocation logging disabled
# description: >-
#   Someone deleted the account's Bedrock model invocation logging
#   configuration in a region. Without it nobody can tell which prompts were
#   run and by whom: LLMjacking attackers turn it off before selling access
#   to the account's models. Severity high: the setting is region-wide, rarely
#   changed, and its only effect is to stop recording.
# custom:
#   id: threats.bedrock_invocation_logging_disabled
#   severity: high
#   attack: [{tactic: TA0005, technique: T1562.008}]
#   tags: [defense-evasion, bedrock, logging, llmjacking, T1562.008]
#   runbook: >-
#     Restore the logging configuration (PutModelInvocationLoggingConfiguration),
#     then look at InvokeModel and Converse calls in CloudTrail and at the
#     Bedrock bill for the period since.
#   references:
#     - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_DeleteModelInvocationLoggingConfiguration.html
#     - https://permiso.io/blog/exploiting-hosted-models
#     - https://attack.mitre.org/techniques/T1562/008/
package rules.threats.bedrock_invocation_logging_disabled

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "bedrock.amazonaws.com"
	input.eventName == "DeleteModelInvocationLoggingConfiguration"
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, [])
}
