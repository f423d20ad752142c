package rules.threats.ec2_password_data_retrieved_test

import rego.v1

import data.rules.threats.ec2_password_data_retrieved as rule

# GetPasswordData (EC2 API reference: InstanceId).
get_password_data := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ci/build-7", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "GetPasswordData",
	"awsRegion": "eu-west-1",
	"sourceIPAddress": "198.51.100.7",
	"requestParameters": {"instanceId": "i-0123456789abcdef0"},
	"responseElements": null,
	"readOnly": true,
	"recipientAccountId": "111122223333",
}

test_fires_on_get_password_data if {
	alerts := rule.alert with input as get_password_data
	alerts == {{"message": `arn:aws:sts::111122223333:assumed-role/ci/build-7 called ec2:GetPasswordData (instanceId="i-0123456789abcdef0") in eu-west-1 from 198.51.100.7`}}
}

test_fires_on_refused_attempts if {
	alerts := rule.alert with input as object.union(get_password_data, {"errorCode": "Client.UnauthorizedOperation"})
	alerts == {{"message": `arn:aws:sts::111122223333:assumed-role/ci/build-7 called ec2:GetPasswordData (instanceId="i-0123456789abcdef0") in eu-west-1 from 198.51.100.7; the call failed with Client.UnauthorizedOperation`}}
}

test_quiet_for_services_and_other_calls if {
	count(rule.alert) == 0 with input as json.patch(get_password_data, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "ssm.amazonaws.com"}])
	count(rule.alert) == 0 with input as object.union(get_password_data, {"eventName": "GetConsoleOutput"})
	count(rule.alert) == 0 with input as object.union(get_password_data, {"eventSource": "lightsail.amazonaws.com"})
}
