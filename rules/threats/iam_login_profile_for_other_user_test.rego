package rules.threats.iam_login_profile_for_other_user_test

import rego.v1

import data.rules.threats.iam_login_profile_for_other_user as rule

# CreateLoginProfile (IAM API reference: UserName, Password — never logged —
# and PasswordResetRequired); UpdateLoginProfile takes the same, with
# UserName optional (the caller's own).
call(name, caller, params) := {
	"eventVersion": "1.08",
	"userIdentity": caller,
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "iam.amazonaws.com",
	"eventName": name,
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.71",
	"requestParameters": params,
	"responseElements": null,
	"recipientAccountId": "111122223333",
}

alice := {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"}

test_fires_on_new_console_password_for_another_user if {
	alerts := rule.alert with input as call("CreateLoginProfile", alice, {"userName": "ci-deployer", "passwordResetRequired": false})
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice gave IAM user ci-deployer a console password from 203.0.113.71"}}
}

test_fires_high_on_changed_password_of_another_user if {
	alerts := rule.alert with input as call("UpdateLoginProfile", alice, {"userName": "bob"})
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice changed the console password of IAM user bob from 203.0.113.71", "severity": "high"}}
}

test_quiet_for_own_password if {
	count(rule.alert) == 0 with input as call("UpdateLoginProfile", alice, {"userName": "alice"})
	count(rule.alert) == 0 with input as call("UpdateLoginProfile", alice, {})
	count(rule.alert) == 0 with input as call("CreateLoginProfile", alice, {"userName": "alice"})
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(call("CreateLoginProfile", alice, {"userName": "bob"}), {"errorCode": "EntityAlreadyExists"})
	count(rule.alert) == 0 with input as call("DeleteLoginProfile", alice, {"userName": "bob"})
	count(rule.alert) == 0 with input as call("GetLoginProfile", alice, {"userName": "bob"})
}
