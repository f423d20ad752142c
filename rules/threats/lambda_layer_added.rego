# METADATA
# title: Lambda function layers changed
# description: >-
#   A person or program (not a deployment service) set the layers of an
#   existing function with UpdateFunctionConfiguration. A layer can carry a
#   Lambda extension, a process that runs beside the function's code and
#   sees its events, environment and role credentials, without the code
#   itself changing. Severity medium for layers of the account's own or
#   known accounts; high when a layer comes from an account outside the
#   organisation (data.known_accounts), since then someone else controls
#   code running inside the function.
# custom:
#   id: threats.lambda_layer_added
#   severity: medium
#   attack: [{tactic: TA0002, technique: T1648}]
#   tags: [persistence, execution, lambda, extension, T1648]
#   runbook: >-
#     List the layers in requestParameters and who published them. Remove any
#     layer nobody can account for, and review the function's role and
#     what it did since.
#   references:
#     - https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html
#     - https://www.clearvector.com/blog/lambda-spy/
#     - https://attack.mitre.org/techniques/T1648/
package rules.threats.lambda_layer_added

import rego.v1

import data.lib.cloudtrail

alert contains result if {
	input.eventSource == "lambda.amazonaws.com"
	input.eventName in {"UpdateFunctionConfiguration", "UpdateFunctionConfiguration20150331", "UpdateFunctionConfiguration20150331v2"}
	layers := input.requestParameters.layers
	is_array(layers)
	count(layers) > 0
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	outside := cloudtrail.outside_accounts(input, layers)
	result := object.union(
		{"message": sprintf("%s%s", [cloudtrail.describe_call(input, ["functionName", "layers"]), _outside_note(outside)])},
		_severity(outside),
	)
}

_outside_note(outside) := "" if count(outside) == 0

else := sprintf("; layers from accounts outside the organisation: %s", [concat(", ", sort(outside))])

_severity(outside) := {} if count(outside) == 0

else := {"severity": "high"}
