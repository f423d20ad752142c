package rules.opsworkscm.engine_credentials_access_test

import rego.v1

import data.rules.opsworkscm.engine_credentials_access as rule

# Shaped like the AWS OpsWorks user guide's CreateServer record.
update_engine_attributes := {
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
	"eventName": "UpdateServerEngineAttributes",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"requestParameters": {
		"serverName": "OpsChef-test-server",
		"attributeName": "CHEF_PIVOTAL_KEY",
		"attributeValue": "*** Redacted ***",
	},
	"responseElements": {"server": {"serverName": "OpsChef-test-server", "status": "MODIFYING"}},
	"eventType": "AwsApiCall",
}

# object.union merges nested objects, so the request and response are removed first.
export_engine_attribute := object.union(object.remove(update_engine_attributes, ["requestParameters", "responseElements"]), {
	"eventName": "ExportServerEngineAttribute",
	"requestParameters": {
		"serverName": "OpsChef-test-server",
		"exportAttributeName": "Userdata",
		"inputAttributes": [{"name": "RunList", "value": "role[webserver]"}],
	},
	"responseElements": {"serverName": "OpsChef-test-server", "engineAttribute": {"name": "Userdata", "value": "*** Redacted ***"}},
})

test_fires_on_engine_attribute_reset if {
	alerts := rule.alert with input as update_engine_attributes
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:UpdateServerEngineAttributes (serverName="OpsChef-test-server", attributeName="CHEF_PIVOTAL_KEY") in us-west-2 from 101.25.190.51`}}
}

test_fires_on_engine_attribute_export if {
	alerts := rule.alert with input as export_engine_attribute
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:ExportServerEngineAttribute (serverName="OpsChef-test-server", exportAttributeName="Userdata") in us-west-2 from 101.25.190.51`}}
}

test_message_never_carries_the_attribute_value if {
	event := json.patch(update_engine_attributes, [{"op": "replace", "path": "/requestParameters/attributeValue", "value": "hunter2"}])
	some alert in rule.alert with input as event
	not contains(alert.message, "hunter2")
}

test_quiet_when_the_call_failed if {
	count(rule.alert) == 0 with input as object.union(update_engine_attributes, {"errorCode": "InvalidStateException"})
	count(rule.alert) == 0 with input as object.union(export_engine_attribute, {"errorCode": "AccessDeniedException"})
}

test_quiet_for_other_calls if {
	count(rule.alert) == 0 with input as object.union(update_engine_attributes, {"eventName": "UpdateServer"})
	count(rule.alert) == 0 with input as object.union(update_engine_attributes, {"eventSource": "opsworks.amazonaws.com"})
}
