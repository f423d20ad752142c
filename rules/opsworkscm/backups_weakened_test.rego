package rules.opsworkscm.backups_weakened_test

import rego.v1

import data.rules.opsworkscm.backups_weakened as rule

# Shaped like the AWS OpsWorks user guide's CreateServer record.
update_server := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "ID number:OpsWorksCMUser",
		"arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		"accountId": "831000000000",
		"sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2017-01-05T22:03:47Z"}},
	},
	"eventTime": "2017-01-06T09:12:40Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "UpdateServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"requestParameters": {"serverName": "OpsChef-test-server", "disableAutomatedBackup": true},
	"responseElements": {"server": {"serverName": "OpsChef-test-server", "disableAutomatedBackup": true}},
	"eventType": "AwsApiCall",
}

with_backups_disabled(value) := json.patch(update_server, [{"op": "replace", "path": "/requestParameters/disableAutomatedBackup", "value": value}])

test_fires_on_update_server if {
	alerts := rule.alert with input as update_server
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:UpdateServer (serverName="OpsChef-test-server", disableAutomatedBackup=true) in us-west-2 from 101.25.190.51`}}
}

test_fires_on_create_server if {
	count(rule.alert) == 1 with input as object.union(update_server, {"eventName": "CreateServer"})
}

test_quiet_when_backups_stay_on if {
	count(rule.alert) == 0 with input as with_backups_disabled(false)
	count(rule.alert) == 0 with input as with_backups_disabled(null)
	count(rule.alert) == 0 with input as json.patch(update_server, [{"op": "remove", "path": "/requestParameters/disableAutomatedBackup"}])
	count(rule.alert) == 0 with input as object.union(update_server, {"requestParameters": null})
}

test_quiet_when_the_call_failed if {
	count(rule.alert) == 0 with input as object.union(update_server, {"errorCode": "ValidationException"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(update_server, {"eventName": "UpdateServerEngineAttributes"})
	count(rule.alert) == 0 with input as object.union(update_server, {"eventSource": "opsworks.amazonaws.com"})
}
