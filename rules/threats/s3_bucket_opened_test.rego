package rules.threats.s3_bucket_opened_test

import rego.v1

import data.rules.threats.s3_bucket_opened as rule

# PutBucketPolicy (S3 API reference: Bucket, Policy), as CloudTrail writes
# it: the policy as an object under bucketPolicy.
put_policy(statements) := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "s3.amazonaws.com",
	"eventName": "PutBucketPolicy",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.91",
	"requestParameters": {"bucketName": "finance-exports", "Host": "finance-exports.s3.amazonaws.com", "policy": "", "bucketPolicy": {"Version": "2012-10-17", "Statement": statements}},
	"recipientAccountId": "111122223333",
}

allow(principal) := {"Effect": "Allow", "Principal": principal, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::finance-exports", "arn:aws:s3:::finance-exports/*"]}

test_fires_for_an_outside_account if {
	alerts := rule.alert with input as put_policy([allow({"AWS": "arn:aws:iam::999988887777:root"})])
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice opened bucket finance-exports to account 999988887777 with its bucket policy, from 203.0.113.91"}}
}

test_fires_for_everyone if {
	alerts := rule.alert with input as put_policy([allow("*")])
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice opened bucket finance-exports to everyone with its bucket policy, from 203.0.113.91"}}
	count(rule.alert) == 1 with input as put_policy([object.union(allow({"AWS": "*"}), {"Condition": {"Bool": {"aws:SecureTransport": "true"}}})])
}

test_reads_policy_text if {
	event := json.patch(put_policy([]), [
		{"op": "remove", "path": "/requestParameters/bucketPolicy"},
		{"op": "replace", "path": "/requestParameters/policy", "value": json.marshal({"Statement": [allow({"AWS": "999988887777"})]})},
	])
	count(rule.alert) == 1 with input as event
}

test_quiet_for_services_own_known_and_restricted if {
	count(rule.alert) == 0 with input as put_policy([allow({"Service": "cloudfront.amazonaws.com"})])
	count(rule.alert) == 0 with input as put_policy([allow({"AWS": "arn:aws:iam::111122223333:role/app"})])
	count(rule.alert) == 0 with input as put_policy([allow({"AWS": "444455556666"})]) with data.known_accounts as ["444455556666"]
	count(rule.alert) == 0 with input as put_policy([object.union(allow("*"), {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}})])
	count(rule.alert) == 0 with input as put_policy([object.union(allow("*"), {"Effect": "Deny"})])
}

test_quiet_for_failures if {
	count(rule.alert) == 0 with input as object.union(put_policy([allow("*")]), {"errorCode": "AccessDenied"})
}

# PutBucketAcl (S3 API reference: x-amz-acl canned ACL, x-amz-grant-*
# headers, or an AccessControlPolicy body with Grantee URIs).

put_acl(params) := json.patch(put_policy([]), [
	{"op": "replace", "path": "/eventName", "value": "PutBucketAcl"},
	{"op": "replace", "path": "/requestParameters", "value": object.union({"bucketName": "finance-exports", "acl": ""}, params)},
])

test_fires_for_canned_public_acls if {
	alerts := rule.alert with input as put_acl({"x-amz-acl": ["public-read"]})
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice granted all users access to bucket finance-exports with its ACL, from 203.0.113.91"}}
	count(rule.alert) == 1 with input as put_acl({"x-amz-acl": "authenticated-read"})
}

test_fires_for_grants_to_predefined_groups if {
	body := {"AccessControlPolicy": {"AccessControlList": {"Grant": [
		{"Grantee": {"xsi:type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"},
		{"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
	]}}}
	count(rule.alert) == 1 with input as put_acl(body)
	alerts := rule.alert with input as put_acl({"x-amz-grant-read": "uri=\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\""})
	alerts == {{"message": "arn:aws:iam::111122223333:user/alice granted any authenticated AWS user access to bucket finance-exports with its ACL, from 203.0.113.91"}}
}

test_quiet_for_private_acls if {
	count(rule.alert) == 0 with input as put_acl({"x-amz-acl": ["private"]})
	count(rule.alert) == 0 with input as put_acl({"x-amz-acl": ["bucket-owner-full-control"]})
	count(rule.alert) == 0 with input as put_acl({"AccessControlPolicy": {"AccessControlList": {"Grant": {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}}}})
}
