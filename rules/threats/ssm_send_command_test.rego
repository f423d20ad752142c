package rules.threats.ssm_send_command_test

import rego.v1

import data.rules.threats.ssm_send_command as rule

# SendCommand (Systems Manager API reference: DocumentName, InstanceIds or
# Targets, Parameters, which CloudTrail hides).
send_command := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ana", "accountId": "111122223333", "userName": "ana"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ssm.amazonaws.com",
	"eventName": "SendCommand",
	"awsRegion": "eu-west-3",
	"sourceIPAddress": "192.0.2.10",
	"requestParameters": {"documentName": "AWS-RunShellScript", "instanceIds": ["i-0aaa", "i-0bbb"], "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"},
	"responseElements": {"command": {"commandId": "c0ffee00-0000-4000-8000-000000000000"}},
	"recipientAccountId": "111122223333",
}

with_params(params) := json.patch(send_command, [{"op": "replace", "path": "/requestParameters", "value": params}])

test_fires_on_send_command if {
	alerts := rule.alert with input as send_command
	alerts == {{"message": "arn:aws:iam::111122223333:user/ana ran SSM document AWS-RunShellScript on 2 instance(s): i-0aaa, i-0bbb in eu-west-3 from 192.0.2.10"}}
}

test_fires_on_targets_by_tag if {
	alerts := rule.alert with input as with_params({"documentName": "AWS-RunPowerShellScript", "targets": [{"key": "tag:env", "values": ["prod"]}]})
	alerts == {{"message": `arn:aws:iam::111122223333:user/ana ran SSM document AWS-RunPowerShellScript on the instances targeted by [{"key":"tag:env","values":["prod"]}] in eu-west-3 from 192.0.2.10`}}
}

test_fires_without_parameters if {
	alerts := rule.alert with input as with_params(null)
	alerts == {{"message": "arn:aws:iam::111122223333:user/ana ran SSM document (unknown) on (unknown instances) in eu-west-3 from 192.0.2.10"}}
}

test_quiet_for_services_and_failures if {
	count(rule.alert) == 0 with input as json.patch(send_command, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "ssm.amazonaws.com"}])
	count(rule.alert) == 0 with input as object.union(send_command, {"sourceIPAddress": "ssm.amazonaws.com"})
	count(rule.alert) == 0 with input as object.union(send_command, {"errorCode": "AccessDeniedException"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(send_command, {"eventName": "ListCommands"})
	count(rule.alert) == 0 with input as object.union(send_command, {"eventName": "GetCommandInvocation"})
}
