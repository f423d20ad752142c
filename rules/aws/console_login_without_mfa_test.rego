package rules.aws.console_login_without_mfa_test

import rego.v1

import data.rules.aws.console_login_without_mfa as rule

# Console sign-in example01: IAM user anaya signed in without MFA
# (samples/awsdocs-console-signin/example01.json).
signin := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDACKCEVSQ6C2EXAMPLE",
		"arn": "arn:aws:iam::111122223333:user/anaya",
		"accountId": "111122223333",
		"userName": "anaya",
	},
	"eventTime": "2022-11-10T16:24:34Z",
	"eventSource": "signin.amazonaws.com",
	"eventName": "ConsoleLogin",
	"awsRegion": "us-east-2",
	"sourceIPAddress": "192.0.2.0",
	"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:62.0) Gecko/20100101 Firefox/62.0",
	"requestParameters": null,
	"responseElements": {"ConsoleLogin": "Success"},
	"additionalEventData": {
		"MobileVersion": "No",
		"LoginTo": "https://console.aws.amazon.com/sns",
		"MFAUsed": "No",
	},
	"eventID": "3fcfb182-98f8-4744-bd45-10a395ab61cb",
	"eventType": "AwsConsoleSignIn",
}

mfa_used(value) := json.patch(signin, [{"op": "replace", "path": "/additionalEventData/MFAUsed", "value": value}])

test_fires_on_signin_without_mfa if {
	alerts := rule.alert with input as signin
	alerts == {{"message": "arn:aws:iam::111122223333:user/anaya signed in to the AWS console without MFA from 192.0.2.0"}}
}

test_fires_when_mfa_used_is_absent_or_odd if {
	count(rule.alert) == 1 with input as json.patch(signin, [{"op": "remove", "path": "/additionalEventData/MFAUsed"}])
	count(rule.alert) == 1 with input as object.remove(signin, ["additionalEventData"])
	count(rule.alert) == 1 with input as mfa_used(null)
	count(rule.alert) == 1 with input as mfa_used(true)
}

# Console sign-in example02 says "Yes", example07 says "YES".
test_quiet_with_mfa if {
	count(rule.alert) == 0 with input as mfa_used("Yes")
	count(rule.alert) == 0 with input as mfa_used("YES")
	count(rule.alert) == 0 with input as mfa_used("yes")
}

test_quiet_for_failed_signin if {
	# Console sign-in example03.
	event := object.union(signin, {"errorMessage": "Failed authentication", "responseElements": {"ConsoleLogin": "Failure"}})
	count(rule.alert) == 0 with input as event
}

test_quiet_for_saml_federation if {
	event := json.patch(signin, [{"op": "add", "path": "/additionalEventData/SamlProviderArn", "value": "arn:aws:iam::111122223333:saml-provider/okta"}])
	count(rule.alert) == 0 with input as event
}

# Console sign-in example06 is root without MFA: critical.
test_critical_for_root if {
	root := json.patch(signin, [
		{"op": "replace", "path": "/userIdentity/type", "value": "Root"},
		{"op": "replace", "path": "/userIdentity/arn", "value": "arn:aws:iam::111122223333:root"},
	])
	alerts := rule.alert with input as root
	alerts == {{"message": "arn:aws:iam::111122223333:root signed in to the AWS console without MFA from 192.0.2.0", "severity": "critical"}}
	count(rule.alert) == 0 with input as json.patch(root, [{"op": "replace", "path": "/additionalEventData/MFAUsed", "value": "Yes"}])
}

test_quiet_for_roles if {
	count(rule.alert) == 0 with input as json.patch(signin, [{"op": "replace", "path": "/userIdentity/type", "value": "AssumedRole"}])
	count(rule.alert) == 0 with input as json.patch(signin, [{"op": "replace", "path": "/userIdentity/type", "value": "FederatedUser"}])
}

test_quiet_for_other_events if {
	count(rule.alert) == 0 with input as object.union(signin, {"eventName": "CheckMfa"})
	count(rule.alert) == 0 with input as object.union(signin, {"eventSource": "sso.amazonaws.com"})
}
