package rules.aws.config_change_test

import rego.v1

import data.rules.aws.config_change as rule

# Shaped like the invictus-ir/aws_dataset records; request parameters as in the AWS Config API reference.
stop_configuration_recorder := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:54:39Z",
	"eventSource": "config.amazonaws.com",
	"eventName": "StopConfigurationRecorder",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"configurationRecorderName": "default",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_stop_configuration_recorder if {
	alerts := rule.alert with input as stop_configuration_recorder
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called config:StopConfigurationRecorder (configurationRecorderName="default") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.9 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(stop_configuration_recorder, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: config:StopConfigurationRecorder",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called config:StopConfigurationRecorder (configurationRecorderName="default") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"StopConfigurationRecorder",
		"DeleteDeliveryChannel",
		"PutDeliveryChannel",
		"PutConfigurationRecorder",
	} {
		count(rule.alert) == 1 with input as object.union(stop_configuration_recorder, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(stop_configuration_recorder, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called config:StopConfigurationRecorder in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(stop_configuration_recorder, {"eventName": "DescribeConfigurationRecorders", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(stop_configuration_recorder, {"eventSource": "sts.amazonaws.com"})
}
