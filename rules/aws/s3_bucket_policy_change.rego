# METADATA
# title: S3 bucket policy changed
# description: >-
#   Someone changed the policy, ACL, CORS, lifecycle or replication
#   configuration of an S3 bucket (CIS AWS Foundations 4.8). These decide who
#   can read the bucket, where its objects are copied and when they are
#   deleted: a quick way to expose or exfiltrate data.
# custom:
#   id: aws.s3_bucket_policy_change
#   severity: medium
#   attack: [{tactic: TA0009, technique: T1530}, {tactic: TA0010, technique: T1537}]
#   tags: [cis-4.8, s3, exfiltration, T1530]
#   runbook: >-
#     Compare the new configuration (in the event's requestParameters) with
#     what the bucket's owner expects. Revert unexpected grants to other
#     accounts or to everyone, unexpected replication targets and shortened
#     lifecycles, and check the bucket's access logs since the change.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-8
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
#     - https://attack.mitre.org/techniques/T1530/
package rules.aws.s3_bucket_policy_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.8 counts attempts as well as changes, so success is not required:
# a refused attempt to open a bucket up is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "s3.amazonaws.com"
	input.eventName in {
		"PutBucketAcl",
		"PutBucketPolicy",
		"PutBucketCors",
		"PutBucketLifecycle",
		"PutBucketReplication",
		"DeleteBucketPolicy",
		"DeleteBucketCors",
		"DeleteBucketLifecycle",
		"DeleteBucketReplication",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["bucketName"])
}
