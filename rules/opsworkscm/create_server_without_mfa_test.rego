package rules.opsworkscm.create_server_without_mfa_test

import rego.v1

import data.rules.opsworkscm.create_server_without_mfa as rule

# The AWS OpsWorks user guide's CreateServer record
# (samples/awsdocs-opsworks-cm/logging-opsca-using-cloudtrail.CreateServer.json),
# response trimmed: an AssumedRole session with mfaAuthenticated "false".
create_server := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "ID number:OpsWorksCMUser",
		"arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		"accountId": "831000000000",
		"accessKeyId": "ID number",
		"sessionContext": {
			"attributes": {"mfaAuthenticated": "false", "creationDate": "2017-01-05T22:03:47Z"},
			"sessionIssuer": {
				"type": "Role",
				"principalId": "ID number",
				"arn": "arn:aws:iam::831000000000:role/Admin",
				"accountId": "831000000000",
				"userName": "Admin",
			},
		},
	},
	"eventTime": "2017-01-05T22:18:23Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "CreateServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"userAgent": "console.amazonaws.com",
	"requestParameters": {
		"serverName": "OpsChef-test-server",
		"engineModel": "Single",
		"engine": "Chef",
		"instanceProfileArn": "arn:aws:iam::831000000000:instance-profile/aws-opsworks-cm-ec2-role",
		"backupRetentionCount": 3,
		"serviceRoleArn": "arn:aws:iam::831000000000:role/service-role/aws-opsworks-cm-service-role",
		"engineVersion": "12",
		"preferredMaintenanceWindow": "Fri:21:00",
		"instanceType": "t2.medium",
		"subnetIds": ["subnet-1e111f11"],
		"preferredBackupWindow": "Wed:08:00",
	},
	"responseElements": {"server": {"serverName": "OpsChef-test-server", "status": "CREATING"}},
	"requestID": "de7f64f9-d394-12ug-8081-7bb0386fbcb6",
	"eventID": "8r7b18df-6c90-47be-87cf-e8346428cfc3",
	"eventType": "AwsApiCall",
	"recipientAccountId": "831000000000",
}

patched(ops) := json.patch(create_server, ops)

test_fires_on_the_documented_create_server if {
	alerts := rule.alert with input as create_server
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser created OpsWorks CM server "OpsChef-test-server" (Chef) in us-west-2 from 101.25.190.51 without MFA`}}
}

# Long-term access keys carry no sessionContext at all: that is no MFA.
test_fires_for_access_keys_without_session_context if {
	event := json.patch(create_server, [
		{"op": "replace", "path": "/userIdentity", "value": {
			"type": "IAMUser",
			"arn": "arn:aws:iam::831000000000:user/ci",
			"accountId": "831000000000",
			"userName": "ci",
		}},
		{"op": "replace", "path": "/requestParameters/engine", "value": "Puppet"},
	])
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::831000000000:user/ci created OpsWorks CM server "OpsChef-test-server" (Puppet) in us-west-2 from 101.25.190.51 without MFA`}}
}

test_message_survives_missing_request_parameters if {
	alerts := rule.alert with input as object.union(create_server, {"requestParameters": null})
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser created OpsWorks CM server "(unknown)" ((unknown)) in us-west-2 from 101.25.190.51 without MFA`}}
}

test_quiet_with_mfa if {
	count(rule.alert) == 0 with input as patched([{"op": "replace", "path": "/userIdentity/sessionContext/attributes/mfaAuthenticated", "value": "true"}])
}

test_quiet_when_the_call_failed if {
	count(rule.alert) == 0 with input as object.union(create_server, {"errorCode": "ValidationException", "errorMessage": "Server name already exists"})
}

test_quiet_for_aws_service if {
	count(rule.alert) == 0 with input as patched([{"op": "replace", "path": "/userIdentity", "value": {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}}])
}

test_quiet_when_invoked_by_a_service if {
	count(rule.alert) == 0 with input as patched([{"op": "add", "path": "/userIdentity/invokedBy", "value": "cloudformation.amazonaws.com"}])
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(create_server, {"eventName": "UpdateServer"})
	count(rule.alert) == 0 with input as object.union(create_server, {"eventSource": "opsworks.amazonaws.com"})
}
