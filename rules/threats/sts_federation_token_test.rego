package rules.threats.sts_federation_token_test

import rego.v1

import data.rules.threats.sts_federation_token as rule

# GetFederationToken (STS API reference: Name, Policy, PolicyArns,
# DurationSeconds).
token(params) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ci", "accountId": "111122223333", "userName": "ci"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "sts.amazonaws.com",
	"eventName": "GetFederationToken",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.73",
	"requestParameters": params,
	"responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLE"}},
	"recipientAccountId": "111122223333",
}

test_fires_on_federation_token if {
	alerts := rule.alert with input as token({"name": "temp", "durationSeconds": 3600})
	alerts == {{"message": "arn:aws:iam::111122223333:user/ci obtained a federation token named temp from 203.0.113.73"}}
}

test_fires_high_for_allow_all_session_policy if {
	policy := json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
	alerts := rule.alert with input as token({"name": "temp", "policy": policy})
	alerts == {{"message": "arn:aws:iam::111122223333:user/ci obtained a federation token named temp from 203.0.113.73", "severity": "high"}}
	count({a | some a in rule.alert; a.severity == "high"}) == 1 with input as token({"name": "t", "policy": json.marshal({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": "*"}]})})
}

test_medium_for_narrow_session_policy if {
	policy := json.marshal({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
	alerts := rule.alert with input as token({"name": "temp", "policy": policy})
	count(alerts) == 1
	every a in alerts {
		not a.severity
	}
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(token({"name": "t"}), {"errorCode": "AccessDenied"})
	count(rule.alert) == 0 with input as object.union(token({"name": "t"}), {"eventName": "GetSessionToken"})
	count(rule.alert) == 0 with input as object.union(token({"name": "t"}), {"eventName": "GetCallerIdentity"})
}
