package rules.aws.s3_bucket_policy_change_test

import rego.v1

import data.rules.aws.s3_bucket_policy_change as rule

# invictus-ir/aws_dataset: PutBucketPolicy from a Stratus Red Team run, trimmed (samples/invictus-ir_aws_dataset).
put_bucket_policy := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:59:58Z",
	"eventSource": "s3.amazonaws.com",
	"eventName": "PutBucketPolicy",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"bucketPolicy": {
			"Version": "2012-10-17",
			"Statement": [
				{
					"Action": "s3:GetBucketAcl",
					"Effect": "Allow",
					"Principal": {
						"Service": "cloudtrail.amazonaws.com",
					},
					"Resource": "arn:aws:s3:::stratus-red-team-ctes-bucket-qyxyekjbtk",
					"Sid": "AWSCloudTrailAclCheck",
				},
			],
		},
		"bucketName": "stratus-red-team-ctes-bucket-qyxyekjbtk",
		"Host": "stratus-red-team-ctes-bucket-qyxyekjbtk.s3.amazonaws.com",
		"policy": "",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_put_bucket_policy if {
	alerts := rule.alert with input as put_bucket_policy
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called s3:PutBucketPolicy (bucketName="stratus-red-team-ctes-bucket-qyxyekjbtk") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.8 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(put_bucket_policy, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: s3:PutBucketPolicy",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called s3:PutBucketPolicy (bucketName="stratus-red-team-ctes-bucket-qyxyekjbtk") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"PutBucketAcl",
		"PutBucketPolicy",
		"PutBucketCors",
		"PutBucketLifecycle",
		"PutBucketReplication",
		"DeleteBucketPolicy",
		"DeleteBucketCors",
		"DeleteBucketLifecycle",
		"DeleteBucketReplication",
	} {
		count(rule.alert) == 1 with input as object.union(put_bucket_policy, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(put_bucket_policy, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called s3:PutBucketPolicy in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(put_bucket_policy, {"eventName": "GetBucketPolicy", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(put_bucket_policy, {"eventSource": "sts.amazonaws.com"})
}
