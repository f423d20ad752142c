package rules.aws.kms_key_disabled_or_deleted_test

import rego.v1

import data.rules.aws.kms_key_disabled_or_deleted as rule

# Shaped like the invictus-ir/aws_dataset records; request parameters as in the KMS API reference.
schedule_key_deletion := {
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
	"eventSource": "kms.amazonaws.com",
	"eventName": "ScheduleKeyDeletion",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"keyId": "arn:aws:kms:us-east-1:123837392027:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"pendingWindowInDays": 7,
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_schedule_key_deletion if {
	alerts := rule.alert with input as schedule_key_deletion
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called kms:ScheduleKeyDeletion (keyId="arn:aws:kms:us-east-1:123837392027:key/1234abcd-12ab-34cd-56ef-1234567890ab", pendingWindowInDays=7) in us-east-1 from 192.168.10.20`}}
}

# CIS 4.7 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(schedule_key_deletion, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: kms:ScheduleKeyDeletion",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called kms:ScheduleKeyDeletion (keyId="arn:aws:kms:us-east-1:123837392027:key/1234abcd-12ab-34cd-56ef-1234567890ab", pendingWindowInDays=7) in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"DisableKey",
		"ScheduleKeyDeletion",
	} {
		count(rule.alert) == 1 with input as object.union(schedule_key_deletion, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(schedule_key_deletion, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called kms:ScheduleKeyDeletion in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(schedule_key_deletion, {"eventName": "Decrypt", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(schedule_key_deletion, {"eventSource": "sts.amazonaws.com"})
}
