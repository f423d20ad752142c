package rules.threats.console_login_new_network_test

import rego.v1

import data.rules.threats.console_login_new_network as rule

# The CloudTrail user guide's successful IAM user sign-in, trimmed.
login := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "principalId": "AIDACKCEVSQ6C2EXAMPLE", "arn": "arn:aws:iam::111122223333:user/anaya", "accountId": "111122223333", "userName": "anaya"},
	"eventTime": "2025-03-01T09:00:00Z",
	"eventSource": "signin.amazonaws.com",
	"eventName": "ConsoleLogin",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "198.51.100.7",
	"responseElements": {"ConsoleLogin": "Success"},
	"additionalEventData": {"MFAUsed": "Yes"},
	"eventID": "3fcfb586-4b8c-4e2a-9b51-38e5c1e5a7a2",
}

test_candidate_with_network if {
	alerts := rule.alert with input as login
	alerts == {{
		"message": "arn:aws:iam::111122223333:user/anaya signed in to the console from 198.51.100.7 (198.51.100.0/24)",
		"network": "198.51.100.0/24",
	}}
}

test_ipv6_network if {
	[a] := [a | some a in rule.alert] with input as object.union(login, {"sourceIPAddress": "2001:db8:aa:bb::1"})
	a.network == "2001:db8:aa::/48"
}

test_quiet_for_failures_and_other_events if {
	count(rule.alert) == 0 with input as object.union(login, {"responseElements": {"ConsoleLogin": "Failure"}})
	count(rule.alert) == 0 with input as object.union(login, {"eventName": "CheckMfa"})
	count(rule.alert) == 0 with input as object.union(login, {"sourceIPAddress": "AWS Internal"})
}
