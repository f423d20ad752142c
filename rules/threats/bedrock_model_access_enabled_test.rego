package rules.threats.bedrock_model_access_enabled_test

import rego.v1

import data.rules.threats.bedrock_model_access_enabled as rule

# CreateFoundationModelAgreement (Bedrock API reference: modelId, offerToken).
agreement := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/leaked", "accountId": "111122223333", "userName": "leaked"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "bedrock.amazonaws.com",
	"eventName": "CreateFoundationModelAgreement",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "198.51.100.96",
	"requestParameters": {"modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0", "offerToken": "HIDDEN"},
	"responseElements": {"modelId": "anthropic.claude-3-5-sonnet-20240620-v1"},
	"recipientAccountId": "111122223333",
}

test_fires_on_agreement if {
	alerts := rule.alert with input as agreement
	alerts == {{"message": `arn:aws:iam::111122223333:user/leaked called bedrock:CreateFoundationModelAgreement (modelId="anthropic.claude-3-5-sonnet-20240620-v1:0") in us-west-2 from 198.51.100.96`}}
}

test_fires_on_use_case_and_entitlement if {
	count(rule.alert) == 1 with input as object.union(agreement, {"eventName": "PutUseCaseForModelAccess", "requestParameters": null})
	count(rule.alert) == 1 with input as object.union(agreement, {"eventName": "PutFoundationModelEntitlement"})
}

test_quiet_for_invocations_listings_and_failures if {
	count(rule.alert) == 0 with input as object.union(agreement, {"eventName": "InvokeModel"})
	count(rule.alert) == 0 with input as object.union(agreement, {"eventName": "ListFoundationModelAgreementOffers"})
	count(rule.alert) == 0 with input as object.union(agreement, {"eventName": "GetFoundationModelAvailability"})
	count(rule.alert) == 0 with input as object.union(agreement, {"errorCode": "AccessDeniedException"})
}
