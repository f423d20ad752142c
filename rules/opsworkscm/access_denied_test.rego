package rules.opsworkscm.access_denied_test

import rego.v1

import data.rules.opsworkscm.access_denied as rule

# The AWS OpsWorks user guide's CreateServer record, trimmed, refused.
denied_create_server := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "ID number:OpsWorksCMUser",
		"arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		"accountId": "831000000000",
		"sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2017-01-05T22:03:47Z"}},
	},
	"eventTime": "2017-01-05T22:18:23Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "CreateServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"userAgent": "console.amazonaws.com",
	"errorCode": "AccessDeniedException",
	"errorMessage": "User: arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser is not authorized to perform: opsworks-cm:CreateServer",
	"requestParameters": {"serverName": "OpsChef-test-server", "engine": "Chef"},
	"responseElements": null,
	"eventType": "AwsApiCall",
}

test_fires_on_access_denied if {
	alerts := rule.alert with input as denied_create_server
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 101.25.190.51; the call failed with AccessDeniedException`}}
}

test_fires_on_unauthorized_operation if {
	count(rule.alert) == 1 with input as object.union(denied_create_server, {"errorCode": "Client.UnauthorizedOperation"})
	count(rule.alert) == 1 with input as object.union(denied_create_server, {"errorCode": "AccessDenied"})
}

test_quiet_on_success if {
	count(rule.alert) == 0 with input as object.remove(denied_create_server, ["errorCode", "errorMessage"])
	count(rule.alert) == 0 with input as object.union(denied_create_server, {"errorCode": null})
}

test_quiet_on_other_errors if {
	count(rule.alert) == 0 with input as object.union(denied_create_server, {"errorCode": "ValidationException"})
	count(rule.alert) == 0 with input as object.union(denied_create_server, {"errorCode": "ThrottlingException"})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(denied_create_server, {"eventSource": "opsworks.amazonaws.com"})
}
