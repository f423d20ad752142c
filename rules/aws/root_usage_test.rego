package rules.aws.root_usage_test

import rego.v1

import data.rules.aws.root_usage as rule

# Console sign-in example06: root signed in without MFA
# (samples/awsdocs-console-signin/example06.json).
root_signin := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "Root",
		"principalId": "AIDACKCEVSQ6C2EXAMPLE",
		"arn": "arn:aws:iam::111122223333:root",
		"accountId": "111122223333",
		"accessKeyId": "",
	},
	"eventTime": "2022-11-10T16:24:34Z",
	"eventSource": "signin.amazonaws.com",
	"eventName": "ConsoleLogin",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.0.2.0",
	"requestParameters": null,
	"responseElements": {"ConsoleLogin": "Success"},
	"additionalEventData": {"MobileVersion": "No", "MFAUsed": "No"},
	"eventID": "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
	"eventType": "AwsConsoleSignIn",
	"recipientAccountId": "111122223333",
}

# Console sign-in example09: root enabling an MFA device through the IAM API.
root_api_call := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "Root",
		"principalId": "AIDACKCEVSQ6C2EXAMPLE",
		"arn": "arn:aws:iam::111122223333:root",
		"accountId": "111122223333",
		"accessKeyId": "EXAMPLE",
		"sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2020-10-13T21:05:40Z"}},
	},
	"eventTime": "2022-11-10T16:24:34Z",
	"eventSource": "iam.amazonaws.com",
	"eventName": "EnableMFADevice",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.0.2.0",
	"requestParameters": {"userName": "AWS ROOT USER", "serialNumber": "arn:aws:iam::111122223333:mfa/root-account-mfa-device"},
	"responseElements": null,
	"eventType": "AwsApiCall",
	"recipientAccountId": "111122223333",
}

test_fires_on_root_console_signin if {
	alerts := rule.alert with input as root_signin
	alerts == {{"message": "Root user activity: arn:aws:iam::111122223333:root called signin:ConsoleLogin in us-east-1 from 192.0.2.0"}}
}

test_fires_on_root_api_call if {
	alerts := rule.alert with input as root_api_call
	alerts == {{"message": "Root user activity: arn:aws:iam::111122223333:root called iam:EnableMFADevice in us-east-1 from 192.0.2.0"}}
}

test_fires_on_signin_invoked_root_call if {
	count(rule.alert) == 1 with input as json.patch(root_api_call, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "signin.amazonaws.com"}])
}

# Console sign-in example08: a failed root sign-in records errorMessage, not errorCode.
test_fires_on_failed_root_signin if {
	event := object.union(root_signin, {
		"errorMessage": "Failed authentication",
		"responseElements": {"ConsoleLogin": "Failure"},
	})
	alerts := rule.alert with input as event
	alerts == {{"message": "Root user activity: arn:aws:iam::111122223333:root called signin:ConsoleLogin in us-east-1 from 192.0.2.0; it failed (Failed authentication)"}}
}

test_fires_on_denied_root_call if {
	alerts := rule.alert with input as object.union(root_api_call, {"errorCode": "AccessDenied"})
	alerts == {{"message": "Root user activity: arn:aws:iam::111122223333:root called iam:EnableMFADevice in us-east-1 from 192.0.2.0; the call failed with AccessDenied"}}
}

test_quiet_for_aws_service_events if {
	count(rule.alert) == 0 with input as object.union(root_api_call, {"eventType": "AwsServiceEvent"})
}

test_quiet_when_a_service_acts_for_root if {
	count(rule.alert) == 0 with input as json.patch(root_api_call, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "support.amazonaws.com"}])
}

test_quiet_for_other_identities if {
	count(rule.alert) == 0 with input as json.patch(root_api_call, [{"op": "replace", "path": "/userIdentity/type", "value": "IAMUser"}])
	count(rule.alert) == 0 with input as object.union(root_api_call, {"userIdentity": null})
}
