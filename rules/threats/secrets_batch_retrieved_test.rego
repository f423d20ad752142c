package rules.threats.secrets_batch_retrieved_test

import rego.v1

import data.rules.threats.secrets_batch_retrieved as rule

# BatchGetSecretValue (Secrets Manager API reference): either SecretIdList or
# Filters (Key: description | name | tag-key | tag-value | primary-region |
# owning-service | all, Values).
by_filter := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "secretsmanager.amazonaws.com",
	"eventName": "BatchGetSecretValue",
	"awsRegion": "us-east-2",
	"sourceIPAddress": "203.0.113.80",
	"requestParameters": {"filters": [{"key": "all", "values": [""]}]},
	"responseElements": null,
	"readOnly": true,
	"recipientAccountId": "111122223333",
}

test_fires_on_filter if {
	alerts := rule.alert with input as by_filter
	alerts == {{"message": `arn:aws:iam::111122223333:user/dev called secretsmanager:BatchGetSecretValue (filters=[{"key":"all","values":[""]}]) in us-east-2 from 203.0.113.80`}}
}

test_fires_on_refused_filter if {
	count(rule.alert) == 1 with input as object.union(by_filter, {"errorCode": "AccessDeniedException"})
}

with_params(params) := json.patch(by_filter, [{"op": "replace", "path": "/requestParameters", "value": params}])

test_quiet_for_named_secrets if {
	count(rule.alert) == 0 with input as with_params({"secretIdList": ["app/db", "app/api"]})
	count(rule.alert) == 0 with input as with_params({"filters": []})
	count(rule.alert) == 0 with input as object.union(by_filter, {"requestParameters": null})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(by_filter, {"eventName": "ListSecrets"})
	count(rule.alert) == 0 with input as object.union(by_filter, {"eventName": "GetSecretValue"})
}
