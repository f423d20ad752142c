package rules.threats.s3_objects_encrypted_with_customer_key_test

import rego.v1

import data.rules.threats.s3_objects_encrypted_with_customer_key as rule

# CopyObject (S3 API reference: Bucket, Key, x-amz-copy-source,
# x-amz-server-side-encryption-customer-algorithm / -key / -key-MD5), a
# data event.
copy(params) := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/leaked", "accountId": "111122223333", "userName": "leaked"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "s3.amazonaws.com",
	"eventName": "CopyObject",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "198.51.100.97",
	"requestParameters": object.union({"bucketName": "invoices", "key": "2025/03/inv 1.pdf", "Host": "invoices.s3.us-east-1.amazonaws.com"}, params),
	"eventCategory": "Data",
	"managementEvent": false,
	"recipientAccountId": "111122223333",
}

ssec := {"x-amz-server-side-encryption-customer-algorithm": "AES256"}

test_fires_on_in_place_sse_c_copy if {
	alerts := rule.alert with input as copy(object.union(ssec, {"x-amz-copy-source": "invoices/2025/03/inv%201.pdf"}))
	alerts == {{"message": "arn:aws:iam::111122223333:user/leaked re-encrypted s3://invoices/2025/03/inv 1.pdf with a customer-provided key from 198.51.100.97"}}
	count(rule.alert) == 1 with input as copy(object.union(ssec, {"x-amz-copy-source": "/invoices/2025/03/inv%201.pdf?versionId=abc"}))
}

test_quiet_for_copies_elsewhere_or_without_sse_c if {
	count(rule.alert) == 0 with input as copy(object.union(ssec, {"x-amz-copy-source": "uploads/2025/03/inv%201.pdf"}))
	count(rule.alert) == 0 with input as copy({"x-amz-copy-source": "invoices/2025/03/inv%201.pdf"})
	count(rule.alert) == 0 with input as copy({"x-amz-copy-source": "invoices/2025/03/inv%201.pdf", "x-amz-server-side-encryption": "aws:kms"})
	count(rule.alert) == 0 with input as copy(ssec)
	count(rule.alert) == 0 with input as copy(object.union(ssec, {"x-amz-copy-source": "invoices/100%"}))
	count(rule.alert) == 0 with input as copy(object.union(ssec, {"x-amz-copy-source": 7}))
}

test_quiet_for_failures_and_puts if {
	count(rule.alert) == 0 with input as object.union(copy(object.union(ssec, {"x-amz-copy-source": "invoices/2025/03/inv%201.pdf"})), {"errorCode": "AccessDenied"})
	count(rule.alert) == 0 with input as object.union(copy(ssec), {"eventName": "PutObject"})
}
