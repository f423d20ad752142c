package rules.opsworkscm.destructive_action_test

import rego.v1

import data.rules.opsworkscm.destructive_action as rule

# Shaped like the AWS OpsWorks user guide's CreateServer record.
delete_server := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "ID number:OpsWorksCMUser",
		"arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		"accountId": "831000000000",
		"sessionContext": {"attributes": {"mfaAuthenticated": "true", "creationDate": "2017-01-05T22:03:47Z"}},
	},
	"eventTime": "2017-01-06T09:12:40Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "DeleteServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"userAgent": "aws-cli/1.11.36 Python/2.7.12",
	"requestParameters": {"serverName": "OpsChef-test-server"},
	"responseElements": null,
	"eventType": "AwsApiCall",
	"recipientAccountId": "831000000000",
}

test_fires_on_delete_server if {
	alerts := rule.alert with input as delete_server
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:DeleteServer (serverName="OpsChef-test-server") in us-west-2 from 101.25.190.51`}}
}

test_fires_on_restore_server if {
	event := object.union(object.remove(delete_server, ["requestParameters"]), {
		"eventName": "RestoreServer",
		"requestParameters": {"serverName": "OpsChef-test-server", "backupId": "OpsChef-test-server-20170105220000000"},
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:RestoreServer (serverName="OpsChef-test-server", backupId="OpsChef-test-server-20170105220000000") in us-west-2 from 101.25.190.51`}}
}

test_fires_on_delete_backup if {
	event := object.union(object.remove(delete_server, ["requestParameters"]), {
		"eventName": "DeleteBackup",
		"requestParameters": {"backupId": "OpsChef-test-server-20170105220000000"},
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:DeleteBackup (backupId="OpsChef-test-server-20170105220000000") in us-west-2 from 101.25.190.51`}}
}

test_quiet_when_the_call_failed if {
	count(rule.alert) == 0 with input as object.union(delete_server, {"errorCode": "InvalidStateException"})
	count(rule.alert) == 0 with input as object.union(delete_server, {"errorCode": "AccessDeniedException"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(delete_server, {"eventName": "CreateBackup"})
	count(rule.alert) == 0 with input as object.union(delete_server, {"eventName": "DescribeServers"})
	count(rule.alert) == 0 with input as object.union(delete_server, {"eventSource": "opsworks.amazonaws.com"})
}
