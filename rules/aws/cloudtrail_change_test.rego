package rules.aws.cloudtrail_change_test

import rego.v1

import data.rules.aws.cloudtrail_change as rule

# invictus-ir/aws_dataset: StopLogging from a Stratus Red Team run, trimmed (samples/invictus-ir_aws_dataset).
stop_logging := {
	"eventVersion": "1.09",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T12:00:42Z",
	"eventSource": "cloudtrail.amazonaws.com",
	"eventName": "StopLogging",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"name": "stratus-red-team-ct-stop-trail-qzbgnfqisx",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_stop_logging if {
	alerts := rule.alert with input as stop_logging
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called cloudtrail:StopLogging (name="stratus-red-team-ct-stop-trail-qzbgnfqisx") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.5 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(stop_logging, {
		"errorCode": "TrailNotFoundException",
		"errorMessage": "Unknown trail: arn:aws:cloudtrail:us-east-1:123837392027:trail/stratus-red-team-ct-stop-trail-qzbgnfqisx for the user: 123837392027",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called cloudtrail:StopLogging (name="stratus-red-team-ct-stop-trail-qzbgnfqisx") in us-east-1 from 192.168.10.20; the call failed with TrailNotFoundException`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"CreateTrail",
		"UpdateTrail",
		"DeleteTrail",
		"StartLogging",
		"StopLogging",
	} {
		count(rule.alert) == 1 with input as object.union(stop_logging, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(stop_logging, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called cloudtrail:StopLogging in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(stop_logging, {"eventName": "DescribeTrails", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(stop_logging, {"eventSource": "sts.amazonaws.com"})
}
