# METADATA
# title: S3 object re-encrypted in place with a customer-provided key
# description: >-
#   An S3 object was copied onto itself with server-side encryption using a
#   customer-provided key (SSE-C): CopyObject from the same bucket and key,
#   with x-amz-server-side-encryption-customer-algorithm. AWS keeps no copy
#   of an SSE-C key, so from then on only whoever holds the key can read the
#   object: the ransomware technique seen in the wild against S3 (with a
#   lifecycle rule or deletion to follow). Needs S3 data events in the
#   trail. Severity critical: legitimate key rotation with SSE-C is
#   extremely rare, and each such call locks data away for good.
# custom:
#   id: threats.s3_objects_encrypted_with_customer_key
#   severity: critical
#   attack: [{tactic: TA0040, technique: T1486}]
#   tags: [impact, ransomware, s3, sse-c, T1486]
#   runbook: >-
#     Disable the principal's credentials at once and block SSE-C for the
#     bucket (a bucket policy denying s3:PutObject with
#     s3:x-amz-server-side-encryption-customer-algorithm). Restore affected
#     objects from earlier versions if versioning is on, or from backups.
#   references:
#     - https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
#     - https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
#     - https://www.halcyon.ai/blog/abusing-aws-native-services-ransomware-encrypting-s3-buckets-with-sse-c
#     - https://attack.mitre.org/techniques/T1486/
package rules.threats.s3_objects_encrypted_with_customer_key

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "s3.amazonaws.com"
	input.eventName == "CopyObject"
	params := input.requestParameters
	is_string(params["x-amz-server-side-encryption-customer-algorithm"])
	cloudtrail.succeeded(input)
	_same_object(params)
	msg := sprintf("%s re-encrypted s3://%s/%s with a customer-provided key from %s", [
		cloudtrail.principal(input),
		params.bucketName,
		params.key,
		cloudtrail.source(input),
	])
}

# x-amz-copy-source is "bucket/key", URL-encoded, optionally with a leading
# slash and a ?versionId=.
_same_object(params) if {
	is_string(params.bucketName)
	is_string(params.key)
	copy_source := params["x-amz-copy-source"]
	is_string(copy_source)
	source := trim_prefix(cloudtrail.url_decode(split(copy_source, "?")[0]), "/")
	source == concat("/", [params.bucketName, params.key])
}
