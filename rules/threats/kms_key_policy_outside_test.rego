package rules.threats.kms_key_policy_outside_test

import rego.v1

import data.rules.threats.kms_key_policy_outside as rule

# PutKeyPolicy (KMS API reference: KeyId, PolicyName "default", Policy as
# JSON text).
default_statement := {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}

put(statements) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/sec/x", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "kms.amazonaws.com",
	"eventName": "PutKeyPolicy",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.92",
	"requestParameters": {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "policyName": "default", "policy": json.marshal({"Version": "2012-10-17", "Statement": array.concat([default_statement], statements)})},
	"recipientAccountId": "111122223333",
}

test_fires_for_an_outside_account if {
	alerts := rule.alert with input as put([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*"}])
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/sec/x let account 999988887777 use KMS key 1234abcd-12ab-34cd-56ef-1234567890ab (PutKeyPolicy) in us-east-1 from 203.0.113.92"}}
}

test_fires_for_everyone if {
	count(rule.alert) == 1 with input as put([{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}])
}

test_fires_on_create_key if {
	event := object.union(put([{"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "kms:*", "Resource": "*"}]), {
		"eventName": "CreateKey",
		"responseElements": {"keyMetadata": {"keyId": "new-key"}},
	})
	alerts := rule.alert with input as json.patch(event, [{"op": "remove", "path": "/requestParameters/keyId"}])
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/sec/x let account 999988887777 use KMS key new-key (CreateKey) in us-east-1 from 203.0.113.92"}}
}

test_quiet_for_default_known_and_restricted_policies if {
	count(rule.alert) == 0 with input as put([])
	count(rule.alert) == 0 with input as put([{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt", "Resource": "*"}]) with data.known_accounts as ["444455556666"]
	count(rule.alert) == 0 with input as put([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}])
	count(rule.alert) == 0 with input as put([{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Encrypt*", "Resource": "*"}])
}

test_quiet_for_failures_and_no_policy if {
	count(rule.alert) == 0 with input as object.union(put([{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]), {"errorCode": "MalformedPolicyDocumentException"})
	count(rule.alert) == 0 with input as object.union(put([]), {"eventName": "CreateKey", "requestParameters": {"policy": null}})
}
