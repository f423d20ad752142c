package rules.threats.secrets_bulk_read_test

import rego.v1

import data.rules.threats.secrets_bulk_read as rule

# One GetSecretValue from a published detonation log of secret harvesting,
# trimmed; the Go tests (rules/stateful_test.go) feed sequences of them.
get_secret := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "principalId": "AIDA45XCCHPPLELFTIIM", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2024-07-31T12:36:52Z",
	"eventSource": "secretsmanager.amazonaws.com",
	"eventName": "GetSecretValue",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.80",
	"requestParameters": {"secretId": "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf"},
	"responseElements": null,
	"readOnly": true,
	"eventID": "b9c3d881-1e77-426c-abd3-5ca20d903380",
}

get_parameter := object.union(get_secret, {
	"eventSource": "ssm.amazonaws.com",
	"eventName": "GetParameter",
	"requestParameters": {"name": "/app/db/password", "withDecryption": true},
})

test_candidate_per_secret_read if {
	alerts := rule.alert with input as get_secret
	alerts == {{"secret": "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf"}}
}

test_candidate_per_decrypted_parameter if {
	[a] := [a | some a in rule.alert] with input as get_parameter
	a.secret == "/app/db/password"
}

test_batches_are_one_value if {
	batch := object.union(get_secret, {"eventName": "BatchGetSecretValue", "requestParameters": {"secretIdList": ["b", "a"]}})
	[a] := [a | some a in rule.alert] with input as batch
	a.secret == "a,b"
	params := object.union(get_parameter, {"eventName": "GetParameters", "requestParameters": {"names": ["/y", "/x"], "withDecryption": true}})
	[p] := [p | some p in rule.alert] with input as params
	p.secret == "/x,/y"
}

test_quiet_without_decryption if {
	plain := json.patch(get_parameter, [{"op": "replace", "path": "/requestParameters/withDecryption", "value": false}])
	count(rule.alert) == 0 with input as plain
	count(rule.alert) == 0 with input as json.patch(get_parameter, [{"op": "remove", "path": "/requestParameters/withDecryption"}])
}

test_quiet_for_refused_and_service_reads if {
	count(rule.alert) == 0 with input as object.union(get_secret, {"errorCode": "AccessDeniedException"})
	count(rule.alert) == 0 with input as object.union(get_secret, {"sourceIPAddress": "cloudformation.amazonaws.com"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(get_secret, {"eventName": "DescribeSecret"})
	count(rule.alert) == 0 with input as object.union(get_secret, {"eventName": "BatchGetSecretValue", "requestParameters": {"filters": [{"key": "all", "values": [""]}]}})
	count(rule.alert) == 0 with input as object.union(get_secret, {"requestParameters": null})
}
