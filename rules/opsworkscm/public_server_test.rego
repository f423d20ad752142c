package rules.opsworkscm.public_server_test

import rego.v1

import data.rules.opsworkscm.public_server as rule

# The AWS OpsWorks user guide's CreateServer record, trimmed, with
# associatePublicIpAddress added.
create_server := {
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
	"requestParameters": {
		"serverName": "OpsChef-test-server",
		"engineModel": "Single",
		"engine": "Chef",
		"instanceType": "t2.medium",
		"subnetIds": ["subnet-1e111f11"],
		"associatePublicIpAddress": true,
	},
	"eventType": "AwsApiCall",
}

public_ip(value) := json.patch(create_server, [{"op": "replace", "path": "/requestParameters/associatePublicIpAddress", "value": value}])

test_fires_on_public_server if {
	alerts := rule.alert with input as create_server
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server", associatePublicIpAddress=true, subnetIds=["subnet-1e111f11"]) in us-west-2 from 101.25.190.51`}}
}

test_quiet_for_private_server if {
	count(rule.alert) == 0 with input as public_ip(false)
	count(rule.alert) == 0 with input as object.remove(create_server, ["requestParameters"])
	count(rule.alert) == 0 with input as json.patch(create_server, [{"op": "remove", "path": "/requestParameters/associatePublicIpAddress"}])
}

test_quiet_when_the_call_failed if {
	count(rule.alert) == 0 with input as object.union(create_server, {"errorCode": "LimitExceededException"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(create_server, {"eventName": "UpdateServer"})
	count(rule.alert) == 0 with input as object.union(create_server, {"eventSource": "opsworks.amazonaws.com"})
}
