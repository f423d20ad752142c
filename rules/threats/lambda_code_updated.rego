# METADATA
# title: Lambda function code replaced outside a deployment service
# description: >-
#   A person or program called UpdateFunctionCode directly (not through
#   CloudFormation or another AWS service), replacing what a function runs.
#   The function keeps its role, triggers and environment, so new code can
#   read every event it processes and act with the role's permissions: a
#   quiet backdoor. Severity medium: tools that deploy straight to Lambda
#   (Terraform, CI jobs) do the same, so suppress their roles once known;
#   an unfamiliar principal replacing code deserves a look.
# custom:
#   id: threats.lambda_code_updated
#   severity: medium
#   attack: [{tactic: TA0002, technique: T1648}]
#   tags: [persistence, execution, lambda, T1648]
#   runbook: >-
#     Compare the new codeSha256 in responseElements with what the function's
#     pipeline last deployed. If it does not match, redeploy the known code,
#     and review the function's role and what it did since.
#   references:
#     - https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
#     - https://research.splunk.com/cloud/aws_lambda_updatefunctioncode/
#     - https://attack.mitre.org/techniques/T1648/
package rules.threats.lambda_code_updated

import rego.v1

import data.lib.cloudtrail

# CloudTrail names Lambda calls after their API version.
alert contains {"message": msg} if {
	input.eventSource == "lambda.amazonaws.com"
	input.eventName in {"UpdateFunctionCode", "UpdateFunctionCode20150331", "UpdateFunctionCode20150331v2"}
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["functionName"])
}
