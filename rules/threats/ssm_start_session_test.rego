package rules.threats.ssm_start_session_test

import rego.v1

import data.rules.threats.ssm_start_session as rule

# StartSession (Systems Manager API reference: Target, DocumentName,
# Parameters).
start_session := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ops/lee", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ssm.amazonaws.com",
	"eventName": "StartSession",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "198.51.100.61",
	"requestParameters": {"target": "i-0123456789abcdef0"},
	"responseElements": {"sessionId": "lee-0a1b2c3d4e5f", "tokenValue": "Value hidden due to security reasons."},
	"recipientAccountId": "111122223333",
}

test_fires_on_start_session if {
	alerts := rule.alert with input as start_session
	alerts == {{"message": `arn:aws:sts::111122223333:assumed-role/ops/lee called ssm:StartSession (target="i-0123456789abcdef0") in us-east-1 from 198.51.100.61`}}
}

test_fires_on_port_forwarding if {
	event := json.patch(start_session, [{"op": "add", "path": "/requestParameters/documentName", "value": "AWS-StartPortForwardingSession"}])
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:sts::111122223333:assumed-role/ops/lee called ssm:StartSession (target="i-0123456789abcdef0", documentName="AWS-StartPortForwardingSession") in us-east-1 from 198.51.100.61`}}
}

test_quiet_for_failures_services_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(start_session, {"errorCode": "TargetNotConnected"})
	count(rule.alert) == 0 with input as json.patch(start_session, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "ssm.amazonaws.com"}])
	count(rule.alert) == 0 with input as object.union(start_session, {"eventName": "TerminateSession"})
	count(rule.alert) == 0 with input as object.union(start_session, {"eventName": "ResumeSession"})
}
