package rules.aws.console_login_failure_test

import rego.v1

import data.rules.aws.console_login_failure as rule

# Console sign-in example03: a failed IAM-user sign-in; note there is no ARN
# (samples/awsdocs-console-signin/example03.json).
failed_signin := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDACKCEVSQ6C2EXAMPLE",
		"accountId": "111122223333",
		"accessKeyId": "",
		"userName": "anaya",
	},
	"eventTime": "2022-11-10T16:24:34Z",
	"eventSource": "signin.amazonaws.com",
	"eventName": "ConsoleLogin",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.0.2.0",
	"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/67.0.3396.99 Safari/537.36",
	"errorMessage": "Failed authentication",
	"requestParameters": null,
	"responseElements": {"ConsoleLogin": "Failure"},
	"additionalEventData": {
		"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
		"MobileVersion": "No",
		"MFAUsed": "Yes",
	},
	"eventID": "d38ce1b3-4575-4cb8-a632-611b8243bfc3",
	"eventType": "AwsConsoleSignIn",
	"recipientAccountId": "111122223333",
}

test_fires_on_failed_signin if {
	alerts := rule.alert with input as failed_signin
	alerts == {{"message": "AWS console sign-in failed for IAMUser anaya from 192.0.2.0 (Failed authentication)"}}
}

# Console sign-in example08: a failed root sign-in has an ARN.
test_fires_on_failed_root_signin if {
	event := object.union(failed_signin, {"userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"}})
	alerts := rule.alert with input as event
	alerts == {{"message": "AWS console sign-in failed for arn:aws:iam::111122223333:root from 192.0.2.0 (Failed authentication)"}}
}

test_fires_on_either_signal_alone if {
	count(rule.alert) == 1 with input as object.remove(failed_signin, ["responseElements"])
	count(rule.alert) == 1 with input as object.union(failed_signin, {"errorMessage": "No username found in supplied account"})
	count(rule.alert) == 1 with input as object.remove(failed_signin, ["errorMessage"])
}

test_message_without_error_message if {
	alerts := rule.alert with input as object.remove(failed_signin, ["errorMessage"])
	alerts == {{"message": "AWS console sign-in failed for IAMUser anaya from 192.0.2.0"}}
}

# Console sign-in example02: a successful sign-in.
test_quiet_on_success if {
	event := object.union(object.remove(failed_signin, ["errorMessage"]), {"responseElements": {"ConsoleLogin": "Success"}})
	count(rule.alert) == 0 with input as event
}

test_quiet_for_other_events if {
	count(rule.alert) == 0 with input as object.union(failed_signin, {"eventName": "CheckMfa", "responseElements": {"CheckMfa": "Failure"}})
	count(rule.alert) == 0 with input as object.union(failed_signin, {"eventName": "PasswordUpdated"})
}
