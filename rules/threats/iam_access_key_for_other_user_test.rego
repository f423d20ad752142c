package rules.threats.iam_access_key_for_other_user_test

import rego.v1

import data.rules.threats.iam_access_key_for_other_user as rule

# CreateAccessKey (IAM API reference: UserName, optional; without it the key
# is the caller's own).
create_key(caller, params) := {
	"eventVersion": "1.08",
	"userIdentity": caller,
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "iam.amazonaws.com",
	"eventName": "CreateAccessKey",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.70",
	"requestParameters": params,
	"responseElements": {"accessKey": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "status": "Active"}},
	"recipientAccountId": "111122223333",
}

alice := {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"}

role := {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/bob", "accountId": "111122223333"}

test_fires_for_another_user if {
	alerts := rule.alert with input as create_key(alice, {"userName": "svc-backup"})
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice created an access key for IAM user svc-backup from 203.0.113.70"}}
}

test_fires_when_a_role_creates_a_user_s_key if {
	count(rule.alert) == 1 with input as create_key(role, {"userName": "alice"})
	count(rule.alert) == 1 with input as create_key({"type": "Root", "arn": "arn:aws:iam::111122223333:root"}, {"userName": "alice"})
}

test_quiet_for_own_key if {
	count(rule.alert) == 0 with input as create_key(alice, {"userName": "alice"})
	count(rule.alert) == 0 with input as create_key(alice, null)
	count(rule.alert) == 0 with input as create_key(alice, {})
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(create_key(alice, {"userName": "bob"}), {"errorCode": "LimitExceeded"})
	count(rule.alert) == 0 with input as object.union(create_key(alice, {"userName": "bob"}), {"eventName": "UpdateAccessKey"})
}
