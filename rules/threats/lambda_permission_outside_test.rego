package rules.threats.lambda_permission_outside_test

import rego.v1

import data.rules.threats.lambda_permission_outside as rule

# AddPermission (Lambda API reference: FunctionName, StatementId, Action,
# Principal, SourceAccount, SourceArn, PrincipalOrgID).
add_permission(params) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/dev/x", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "lambda.amazonaws.com",
	"eventName": "AddPermission20150331v2",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.12",
	"requestParameters": object.union({"functionName": "payments", "statementId": "s1", "action": "lambda:InvokeFunction"}, params),
	"recipientAccountId": "111122223333",
}

test_fires_for_everyone if {
	alerts := rule.alert with input as add_permission({"principal": "*"})
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/dev/x let everyone invoke Lambda function payments (action lambda:InvokeFunction) in us-east-1 from 203.0.113.12"}}
}

test_fires_for_an_outside_account if {
	alerts := rule.alert with input as add_permission({"principal": "arn:aws:iam::999988887777:root"})
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/dev/x let account 999988887777 invoke Lambda function payments (action lambda:InvokeFunction) in us-east-1 from 203.0.113.12"}}
	count(rule.alert) == 1 with input as add_permission({"principal": "999988887777"})
}

test_fires_for_everyone_limited_to_an_outside_account if {
	count(rule.alert) == 1 with input as add_permission({"principal": "*", "sourceAccount": "999988887777"})
}

test_quiet_for_own_known_and_service_principals if {
	count(rule.alert) == 0 with input as add_permission({"principal": "111122223333"})
	count(rule.alert) == 0 with input as add_permission({"principal": "arn:aws:iam::444455556666:role/app"}) with data.known_accounts as ["444455556666"]
	count(rule.alert) == 0 with input as add_permission({"principal": "s3.amazonaws.com", "sourceAccount": "111122223333"})
	count(rule.alert) == 0 with input as add_permission({"principal": "*", "principalOrgID": "o-abc123"})
	count(rule.alert) == 0 with input as add_permission({"principal": "*", "sourceArn": "arn:aws:execute-api:us-east-1:111122223333:abc/*"})
}

test_quiet_for_failures if {
	count(rule.alert) == 0 with input as object.union(add_permission({"principal": "*"}), {"errorCode": "ResourceConflictException"})
}

url_config(auth) := object.union(add_permission({}), {
	"eventName": "CreateFunctionUrlConfig",
	"requestParameters": {"authType": auth},
})

test_fires_for_unauthenticated_function_url if {
	alerts := rule.alert with input as url_config("NONE")
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/dev/x gave Lambda function payments a URL anyone can call without authentication in us-east-1 from 203.0.113.12"}}
}

test_quiet_for_iam_function_url if {
	count(rule.alert) == 0 with input as url_config("AWS_IAM")
}
