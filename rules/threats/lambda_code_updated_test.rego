package rules.threats.lambda_code_updated_test

import rego.v1

import data.rules.threats.lambda_code_updated as rule

# UpdateFunctionCode (Lambda API reference: FunctionName, ZipFile or S3Bucket
# and S3Key or ImageUri, Publish).
update_code := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "lambda.amazonaws.com",
	"eventName": "UpdateFunctionCode20150331v2",
	"awsRegion": "eu-north-1",
	"sourceIPAddress": "198.51.100.33",
	"requestParameters": {"functionName": "billing-export", "publish": true},
	"responseElements": {"functionName": "billing-export", "codeSha256": "Pt1c8vVaBygmNtAeSyjlpdy7r8nHRqJAAL++HEGlQkc="},
	"recipientAccountId": "111122223333",
}

test_fires_on_direct_update if {
	alerts := rule.alert with input as update_code
	alerts == {{"message": `arn:aws:iam::111122223333:user/dev called lambda:UpdateFunctionCode20150331v2 (functionName="billing-export") in eu-north-1 from 198.51.100.33`}}
}

test_fires_for_every_api_version if {
	count(rule.alert) == 1 with input as object.union(update_code, {"eventName": "UpdateFunctionCode"})
	count(rule.alert) == 1 with input as object.union(update_code, {"eventName": "UpdateFunctionCode20150331"})
}

test_quiet_for_cloudformation_and_failures if {
	count(rule.alert) == 0 with input as object.union(update_code, {"sourceIPAddress": "cloudformation.amazonaws.com", "userIdentity": {"invokedBy": "cloudformation.amazonaws.com"}})
	count(rule.alert) == 0 with input as object.union(update_code, {"errorCode": "ResourceConflictException"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(update_code, {"eventName": "GetFunction20150331v2"})
	count(rule.alert) == 0 with input as object.union(update_code, {"eventName": "UpdateFunctionConfiguration20150331v2"})
}
