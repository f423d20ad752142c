package rules.threats.denied_calls_burst_test

import rego.v1

import data.rules.threats.denied_calls_burst as rule

denied := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/ci", "accountId": "111122223333", "userName": "ci"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "iam.amazonaws.com",
	"eventName": "ListUsers",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "198.51.100.9",
	"errorCode": "AccessDenied",
	"errorMessage": "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:ListUsers",
	"eventID": "0b6a4c52-6a3d-4c8e-9a55-7f3c1f9e2d11",
}

test_candidate_per_refusal if {
	alerts := rule.alert with input as denied
	alerts == {{"action": "iam:ListUsers"}}
}

test_candidate_for_ec2_style_refusals if {
	ec2 := object.union(denied, {"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "errorCode": "Client.UnauthorizedOperation"})
	[a] := [a | some a in rule.alert] with input as ec2
	a.action == "ec2:DescribeInstances"
}

test_quiet_for_other_failures_and_successes if {
	count(rule.alert) == 0 with input as object.union(denied, {"errorCode": "ThrottlingException"})
	count(rule.alert) == 0 with input as object.remove(denied, ["errorCode"])
}

test_quiet_for_cis_exclusions_and_console if {
	count(rule.alert) == 0 with input as object.union(denied, {"eventName": "HeadBucket"})
	count(rule.alert) == 0 with input as object.union(denied, {"sourceIPAddress": "delivery.logs.amazonaws.com"})
	count(rule.alert) == 0 with input as object.union(denied, {"sessionCredentialFromConsole": "true"})
}
