# METADATA
# title: Bedrock foundation model access requested or granted
# description: >-
#   Someone went through Bedrock's model access steps: submitted the
#   use-case form (PutUseCaseForModelAccess), accepted a model's marketplace
#   agreement (CreateFoundationModelAgreement) or was granted the
#   entitlement (PutFoundationModelEntitlement). LLMjacking attackers do
#   exactly this with stolen keys before running or reselling inference at
#   the account's expense. Severity medium: teams adopting Bedrock do it too,
#   once per model, and it is cheap to confirm.
# custom:
#   id: threats.bedrock_model_access_enabled
#   severity: medium
#   attack: [{tactic: TA0040, technique: T1496}]
#   tags: [impact, resource-hijacking, bedrock, llmjacking, T1496]
#   runbook: >-
#     Ask whether a team asked for this model. If not, remove the model access
#     in the Bedrock console, disable the principal's credentials, and check
#     InvokeModel calls and the Bedrock bill since.
#   references:
#     - https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html
#     - https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/
#     - https://permiso.io/blog/exploiting-hosted-models
#     - https://attack.mitre.org/techniques/T1496/
package rules.threats.bedrock_model_access_enabled

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "bedrock.amazonaws.com"
	input.eventName in {"PutUseCaseForModelAccess", "CreateFoundationModelAgreement", "PutFoundationModelEntitlement"}
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["modelId"])
}
