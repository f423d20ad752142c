package rules.opsworkscm.root_credentials_test

import rego.v1

import data.rules.opsworkscm.root_credentials as rule

# The AWS OpsWorks user guide's CreateServer record, trimmed, made by root
# (identity as in console sign-in example09).
root_create_server := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "Root",
		"principalId": "831000000000",
		"arn": "arn:aws:iam::831000000000:root",
		"accountId": "831000000000",
		"accessKeyId": "EXAMPLE",
		"sessionContext": {"attributes": {"mfaAuthenticated": "true", "creationDate": "2017-01-05T22:03:47Z"}},
	},
	"eventTime": "2017-01-05T22:18:23Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "CreateServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"userAgent": "console.amazonaws.com",
	"requestParameters": {"serverName": "OpsChef-test-server", "engine": "Chef", "engineModel": "Single"},
	"eventType": "AwsApiCall",
	"recipientAccountId": "831000000000",
}

test_fires_on_root_call if {
	alerts := rule.alert with input as root_create_server
	alerts == {{"message": `Root credentials used on OpsWorks CM: arn:aws:iam::831000000000:root called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 101.25.190.51`}}
}

# MFA does not make root use acceptable, and a refused call still counts.
test_fires_on_refused_root_call if {
	event := object.union(object.remove(root_create_server, ["requestParameters"]), {
		"eventName": "DeleteBackup",
		"requestParameters": {"backupId": "OpsChef-test-server-20170105220000000"},
		"errorCode": "AccessDeniedException",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `Root credentials used on OpsWorks CM: arn:aws:iam::831000000000:root called opsworks-cm:DeleteBackup (backupId="OpsChef-test-server-20170105220000000") in us-west-2 from 101.25.190.51; the call failed with AccessDeniedException`}}
}

test_fires_when_invoked_through_signin if {
	count(rule.alert) == 1 with input as json.patch(root_create_server, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "signin.amazonaws.com"}])
}

test_quiet_when_a_service_acts_for_root if {
	count(rule.alert) == 0 with input as json.patch(root_create_server, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "cloudformation.amazonaws.com"}])
}

test_quiet_for_other_identities if {
	count(rule.alert) == 0 with input as json.patch(root_create_server, [
		{"op": "replace", "path": "/userIdentity/type", "value": "AssumedRole"},
		{"op": "replace", "path": "/userIdentity/arn", "value": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser"},
	])
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(root_create_server, {"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances"})
}
