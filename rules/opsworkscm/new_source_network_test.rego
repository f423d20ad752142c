package rules.opsworkscm.new_source_network_test

import rego.v1

import data.rules.opsworkscm.new_source_network as rule

# The AWS OpsWorks user guide's CreateServer record, trimmed.
create_server := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "ID number:OpsWorksCMUser",
		"arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		"accountId": "831000000000",
	},
	"eventTime": "2017-01-05T22:18:23Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "CreateServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"userAgent": "console.amazonaws.com",
	"requestParameters": {"serverName": "OpsChef-test-server", "engine": "Chef"},
	"eventType": "AwsApiCall",
}

test_candidate_without_known_networks if {
	alerts := rule.alert with input as create_server
	alerts == {{
		"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 101.25.190.51 (101.25.190.0/24)`,
		"network": "101.25.190.0/24",
	}}
	count(rule.alert) == 1 with input as create_server with data.known_networks as []
}

test_quiet_with_known_networks if {
	count(rule.alert) == 0 with input as create_server with data.known_networks as ["10.0.0.0/8"]
	count(rule.alert) == 0 with input as object.union(create_server, {"sourceIPAddress": "198.51.100.7"}) with data.known_networks as ["10.0.0.0/8"]
}

test_quiet_for_service_names_and_other_services if {
	count(rule.alert) == 0 with input as object.union(create_server, {"sourceIPAddress": "cloudformation.amazonaws.com"})
	count(rule.alert) == 0 with input as object.union(create_server, {"sourceIPAddress": "AWS Internal"})
	count(rule.alert) == 0 with input as object.union(create_server, {"eventSource": "opsworks.amazonaws.com"})
}
