package rules.threats.ssm_parameters_bulk_decrypted_test

import rego.v1

import data.rules.threats.ssm_parameters_bulk_decrypted as rule

# GetParameters (Systems Manager API reference: Names, at most 10, and
# WithDecryption).
names(n) := [sprintf("/app/prod/secret-%d", [i]) | some i in numbers.range(1, n)]

get_parameters(n) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ssm.amazonaws.com",
	"eventName": "GetParameters",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.81",
	"requestParameters": {"names": names(n), "withDecryption": true},
	"responseElements": null,
	"readOnly": true,
	"recipientAccountId": "111122223333",
}

by_path(path, recursive) := object.union(get_parameters(0), {
	"eventName": "GetParametersByPath",
	"requestParameters": {"path": path, "recursive": recursive, "withDecryption": true},
})

test_fires_on_ten_decrypted_names if {
	alerts := rule.alert with input as get_parameters(10)
	alerts == {{"message": "arn:aws:iam::111122223333:user/dev decrypted 10 SSM parameters in one GetParameters call in us-east-1 from 203.0.113.81"}}
}

test_fires_on_the_whole_tree if {
	alerts := rule.alert with input as by_path("/", true)
	alerts == {{"message": `arn:aws:iam::111122223333:user/dev called ssm:GetParametersByPath (path="/", recursive=true, withDecryption=true) in us-east-1 from 203.0.113.81`}}
}

test_quiet_for_an_application_s_few_parameters if {
	count(rule.alert) == 0 with input as get_parameters(3)
	count(rule.alert) == 0 with input as get_parameters(9)
	count(rule.alert) == 0 with input as by_path("/app/prod", true)
	count(rule.alert) == 0 with input as by_path("/", false)
}

test_quiet_without_decryption if {
	count(rule.alert) == 0 with input as json.patch(get_parameters(10), [{"op": "replace", "path": "/requestParameters/withDecryption", "value": false}])
	count(rule.alert) == 0 with input as json.patch(get_parameters(10), [{"op": "remove", "path": "/requestParameters/withDecryption"}])
}

test_quiet_for_services if {
	count(rule.alert) == 0 with input as json.patch(get_parameters(10), [{"op": "add", "path": "/userIdentity/invokedBy", "value": "cloudformation.amazonaws.com"}])
}
