package rules.opsworkscm.call_after_end_of_life_test

import rego.v1

import data.rules.opsworkscm.call_after_end_of_life as rule

# The AWS OpsWorks user guide's CreateServer record, trimmed (it is from 2017).
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

at(t) := object.union(create_server, {"eventTime": t})

test_fires_at_end_of_life if {
	alerts := rule.alert with input as at("2024-05-05T00:00:00Z")
	alerts == {{"message": `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 101.25.190.51 at 2024-05-05T00:00:00Z, after OpsWorks CM reached end of life on 2024-05-05`}}
}

# After retirement calls are refused; they still count.
test_fires_after_end_of_life_even_when_refused if {
	event := object.union(at("2025-11-03T08:15:00Z"), {"eventName": "DescribeServers", "errorCode": "AccessDeniedException", "requestParameters": null})
	alerts := rule.alert with input as event
	alerts == {{"message": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:DescribeServers in us-west-2 from 101.25.190.51; the call failed with AccessDeniedException at 2025-11-03T08:15:00Z, after OpsWorks CM reached end of life on 2024-05-05"}}
}

test_compares_instants_not_strings if {
	count(rule.alert) == 1 with input as at("2024-05-04T23:30:00-01:00") # 00:30Z on the 5th
	count(rule.alert) == 0 with input as at("2024-05-05T01:00:00+02:00") # 23:00Z on the 4th
}

test_quiet_before_end_of_life if {
	count(rule.alert) == 0 with input as create_server
	count(rule.alert) == 0 with input as at("2024-05-04T23:59:59Z")
	count(rule.alert) == 0 with input as at("2024-05-04T23:59:59.999999999Z")
}

# Unparsable times: no alert and (the test runner raises built-in errors) no error.
test_quiet_on_unparsable_times if {
	count(rule.alert) == 0 with input as at("Jan 5, 2025 10:18:22 PM")
	count(rule.alert) == 0 with input as at("2025-02-29T00:00:00+00:00")
	count(rule.alert) == 0 with input as at(1762157700)
	count(rule.alert) == 0 with input as at(null)
	count(rule.alert) == 0 with input as object.remove(create_server, ["eventTime"])
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(at("2025-11-03T08:15:00Z"), {"eventSource": "opsworks.amazonaws.com"})
}

# In CloudTrail's own form the time is compared as text, so an impossible date
# after the end of life still fires: a garbled opsworks-cm record is worth a look.
test_impossible_date_in_cloudtrail_form_compared_as_text if {
	count(rule.alert) == 1 with input as at("2025-02-29T00:00:00Z")
	count(rule.alert) == 0 with input as at("2024-02-30T00:00:00Z")
}
