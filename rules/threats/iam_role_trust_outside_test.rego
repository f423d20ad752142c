package rules.threats.iam_role_trust_outside_test

import rego.v1

import data.rules.threats.iam_role_trust_outside as rule

# UpdateAssumeRolePolicy (IAM API reference: RoleName, PolicyDocument as
# JSON text) and CreateRole (RoleName, AssumeRolePolicyDocument).
trust(principal) := json.marshal({
	"Version": "2012-10-17",
	"Statement": [
		{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
		{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"},
	],
})

update(policy) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "iam.amazonaws.com",
	"eventName": "UpdateAssumeRolePolicy",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.72",
	"requestParameters": {"roleName": "deploy", "policyDocument": policy},
	"responseElements": null,
	"recipientAccountId": "111122223333",
}

create(policy) := object.union(update(""), {
	"eventName": "CreateRole",
	"requestParameters": {"roleName": "deploy", "assumeRolePolicyDocument": policy},
})

test_fires_for_an_outside_account if {
	alerts := rule.alert with input as update(trust({"AWS": "arn:aws:iam::999988887777:root"}))
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice let account 999988887777 assume IAM role deploy (UpdateAssumeRolePolicy) from 203.0.113.72"}}
}

test_fires_for_everyone_and_lists if {
	alerts := rule.alert with input as update(trust("*"))
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice let everyone assume IAM role deploy (UpdateAssumeRolePolicy) from 203.0.113.72"}}
	count(rule.alert) == 1 with input as update(trust({"AWS": ["arn:aws:iam::111122223333:role/a", "444455556666"]}))
	count(rule.alert) == 1 with input as update(trust({"AWS": "*"}))
}

test_fires_on_create_role if {
	alerts := rule.alert with input as create(trust({"AWS": "arn:aws:iam::999988887777:user/x"}))
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice let account 999988887777 assume IAM role deploy (CreateRole) from 203.0.113.72"}}
}

test_reads_url_encoded_and_single_statement_policies if {
	single := json.marshal({"Statement": {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "sts:AssumeRole"}})
	count(rule.alert) == 1 with input as update(single)
	count(rule.alert) == 1 with input as update(urlquery.encode(single))
}

test_quiet_for_own_known_and_service_principals if {
	count(rule.alert) == 0 with input as update(trust({"AWS": "arn:aws:iam::111122223333:root"}))
	count(rule.alert) == 0 with input as update(trust({"AWS": "arn:aws:iam::444455556666:root"})) with data.known_accounts as ["444455556666"]
	count(rule.alert) == 0 with input as update(trust({"Service": "lambda.amazonaws.com"}))
	count(rule.alert) == 0 with input as update(trust({"Federated": "arn:aws:iam::111122223333:saml-provider/okta"}))
}

test_quiet_for_deny_and_restricted_everyone if {
	deny := json.marshal({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "999988887777"}, "Action": "sts:AssumeRole"}]})
	count(rule.alert) == 0 with input as update(deny)
	org := json.marshal({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]})
	count(rule.alert) == 0 with input as update(org)
}

test_quiet_for_garbage_and_failures if {
	count(rule.alert) == 0 with input as update("not json")
	count(rule.alert) == 0 with input as update(null)
	count(rule.alert) == 0 with input as object.union(update(trust("*")), {"errorCode": "MalformedPolicyDocument"})
}
