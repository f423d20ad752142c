package rules.opsworkscm.unknown_source_ip_test

import rego.v1

import data.rules.opsworkscm.unknown_source_ip as rule

# The AWS OpsWorks user guide's CreateServer record, trimmed.
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
	"requestParameters": {"serverName": "OpsChef-test-server", "engine": "Chef"},
	"eventType": "AwsApiCall",
}

from(ip) := object.union(create_server, {"sourceIPAddress": ip})

networks := ["10.0.0.0/8", "101.25.190.0/24", "2001:db8::/32"]

test_fires_outside_known_networks if {
	alerts := rule.alert with input as from("198.51.100.7") with data.known_networks as networks
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 198.51.100.7, outside every known network`}}
}

test_fires_on_failed_calls_too if {
	event := object.union(from("198.51.100.7"), {"errorCode": "AccessDeniedException"})
	alerts := rule.alert with input as event with data.known_networks as networks
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 198.51.100.7, outside every known network; the call failed with AccessDeniedException`}}
}

test_fires_for_ipv6_outside if {
	count(rule.alert) == 1 with input as from("2001:db9::1") with data.known_networks as networks
}

test_quiet_inside_known_networks if {
	count(rule.alert) == 0 with input as create_server with data.known_networks as networks
	count(rule.alert) == 0 with input as from("10.20.30.40") with data.known_networks as networks
	count(rule.alert) == 0 with input as from("2001:db8:1::42") with data.known_networks as networks
	count(rule.alert) == 0 with input as from("::ffff:10.20.30.40") with data.known_networks as networks
}

# Not IPs: no alert, and (the test runner raises built-in errors) no error.
test_quiet_for_service_names_and_aws_internal if {
	count(rule.alert) == 0 with input as from("cloudformation.amazonaws.com") with data.known_networks as networks
	count(rule.alert) == 0 with input as from("AWS Internal") with data.known_networks as networks
	count(rule.alert) == 0 with input as from("075.050.255.67") with data.known_networks as networks
	count(rule.alert) == 0 with input as object.remove(create_server, ["sourceIPAddress"]) with data.known_networks as networks
}

test_inert_without_known_networks if {
	count(rule.alert) == 0 with input as from("198.51.100.7")
	count(rule.alert) == 0 with input as from("198.51.100.7") with data.known_networks as []
}

test_quiet_for_other_services if {
	event := object.union(from("198.51.100.7"), {"eventSource": "opsworks.amazonaws.com"})
	count(rule.alert) == 0 with input as event with data.known_networks as networks
}
