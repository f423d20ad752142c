# METADATA
# title: Lambda function opened to another account or to everyone
# description: >-
#   Someone added a statement to a function's resource policy (AddPermission)
#   that lets an account outside the organisation, or everyone ("*"), call
#   it, or created a function URL that needs no authentication. Outsiders
#   can then run the function with its role's permissions whenever they
#   like: a backdoor that survives the loss of the credentials used to plant
#   it. Statements for AWS services (S3, SNS, API Gateway) and "*" limited to
#   an account or organisation are not reported. Severity high: legitimate
#   cross-account invocation is set up rarely and by plan, and a public
#   function is almost always a mistake or an attack.
# custom:
#   id: threats.lambda_permission_outside
#   severity: high
#   attack: [{tactic: TA0003, technique: T1098}]
#   tags: [persistence, lambda, resource-policy, T1098]
#   runbook: >-
#     Remove the statement (RemovePermission with its statementId) or the
#     function URL unless its owner can explain it, then check the function's
#     invocations since (CloudWatch metrics, logs) and what its role can do.
#   references:
#     - https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html
#     - https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunctionUrlConfig.html
#     - https://unit42.paloaltonetworks.com/large-scale-cloud-extortion-operation/
#     - https://attack.mitre.org/techniques/T1098/
package rules.threats.lambda_permission_outside

import rego.v1

import data.lib.cloudtrail

# The principal is "*", an account id or an ARN; principalOrgID or
# sourceAccount limit a "*" (or a service) to known callers.
alert contains {"message": msg} if {
	input.eventSource == "lambda.amazonaws.com"
	input.eventName in {"AddPermission", "AddPermission20150331", "AddPermission20150331v2"}
	cloudtrail.succeeded(input)
	outside := cloudtrail.outside_accounts(input, [input.requestParameters.principal])
	count(outside) > 0
	not _limited_to_known_callers(outside)
	msg := sprintf("%s let %s invoke Lambda function %s (action %s) in %s from %s", [
		cloudtrail.principal(input),
		_who(outside),
		cloudtrail.request_param(input, "functionName"),
		cloudtrail.request_param(input, "action"),
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

alert contains {"message": msg} if {
	input.eventSource == "lambda.amazonaws.com"
	input.eventName in {"CreateFunctionUrlConfig", "CreateFunctionUrlConfig20211031", "UpdateFunctionUrlConfig", "UpdateFunctionUrlConfig20211031"}
	input.requestParameters.authType == "NONE"
	cloudtrail.succeeded(input)
	msg := sprintf("%s gave Lambda function %s a URL anyone can call without authentication in %s from %s", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "functionName"),
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

_limited_to_known_callers(outside) if {
	outside == {"*"}
	some key in ["principalOrgID", "sourceAccount", "sourceArn"]
	v := input.requestParameters[key]
	is_string(v)
	v != ""
	not _outside_source_account
}

# A sourceAccount outside the organisation limits nothing worth having.
_outside_source_account if {
	a := cloudtrail.account_of(input.requestParameters.sourceAccount)
	cloudtrail.outside_account(input, a)
}

_who(outside) := "everyone" if "*" in outside

else := sprintf("account %s", [concat(", ", sort(outside))])
