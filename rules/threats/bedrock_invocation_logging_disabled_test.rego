package rules.threats.bedrock_invocation_logging_disabled_test

import rego.v1

import data.rules.threats.bedrock_invocation_logging_disabled as rule

# DeleteModelInvocationLoggingConfiguration takes no parameters (Bedrock API
# reference).
delete_logging := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/dev/sam", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "bedrock.amazonaws.com",
	"eventName": "DeleteModelInvocationLoggingConfiguration",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.0.2.44",
	"requestParameters": null,
	"responseElements": null,
	"recipientAccountId": "111122223333",
}

test_fires_on_delete if {
	alerts := rule.alert with input as delete_logging
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/dev/sam called bedrock:DeleteModelInvocationLoggingConfiguration in us-east-1 from 192.0.2.44"}}
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(delete_logging, {"errorCode": "AccessDeniedException"})
	count(rule.alert) == 0 with input as object.union(delete_logging, {"eventName": "PutModelInvocationLoggingConfiguration"})
	count(rule.alert) == 0 with input as object.union(delete_logging, {"eventName": "GetModelInvocationLoggingConfiguration"})
}
