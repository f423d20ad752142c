# METADATA
# title: S3 bucket opened to another account or to everyone
# description: >-
#   A bucket policy now lets an AWS account outside the organisation (not the
#   bucket's account, not in data.known_accounts), or everyone, in; or a
#   bucket ACL now grants access to all users or to any authenticated AWS
#   user. Either way the bucket's objects can be read (or written) from
#   outside with no credentials of this account. "*" statements limited by
#   a Condition on the organisation, account, VPC, source IP or source ARN
#   (CloudFront, logging services) are not reported. Severity high: a
#   cross-account or public grant is the step that turns a bucket into an
#   exfiltration channel, and grants to partners belong in known_accounts.
# custom:
#   id: threats.s3_bucket_opened
#   severity: high
#   attack:
#     - {tactic: TA0010, technique: T1537}
#     - {tactic: TA0009, technique: T1530}
#   tags: [exfiltration, collection, s3, bucket-policy, T1537, T1530]
#   runbook: >-
#     Read the new policy or ACL in requestParameters, remove the outside
#     grant, and check the bucket's server access logs or CloudTrail data
#     events for reads from that account since the change.
#   references:
#     - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
#     - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html
#     - https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#specifying-grantee-predefined-groups
#     - https://attack.mitre.org/techniques/T1537/
package rules.threats.s3_bucket_opened

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "s3.amazonaws.com"
	input.eventName == "PutBucketPolicy"
	cloudtrail.succeeded(input)
	policy := cloudtrail.policy_document(_policy)
	outside := cloudtrail.policy_outside_accounts(input, policy)
	count(outside) > 0
	msg := sprintf("%s opened bucket %s to %s with its bucket policy, from %s", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "bucketName"),
		_who(outside),
		cloudtrail.source(input),
	])
}

alert contains {"message": msg} if {
	input.eventSource == "s3.amazonaws.com"
	input.eventName == "PutBucketAcl"
	cloudtrail.succeeded(input)
	groups := _public_acl_grants
	count(groups) > 0
	msg := sprintf("%s granted %s access to bucket %s with its ACL, from %s", [
		cloudtrail.principal(input),
		concat(" and ", sort(groups)),
		cloudtrail.request_param(input, "bucketName"),
		cloudtrail.source(input),
	])
}

# CloudTrail writes the policy as an object under bucketPolicy; older
# records and other exporters carry the text under policy.
_policy := input.requestParameters.bucketPolicy if is_object(input.requestParameters.bucketPolicy)

else := input.requestParameters.policy

_who(outside) := "everyone" if "*" in outside

else := sprintf("account %s", [concat(", ", sort(outside))])

# The ACL can come as a canned ACL header (x-amz-acl, a string or a list of
# one), as grant headers (x-amz-grant-read: uri="…/AllUsers") or as an
# AccessControlPolicy body. Every form names the predefined groups by URI
# or canned name, so the request is searched for those.
_public_acl_grants contains "all users" if {
	text := json.marshal(input.requestParameters)
	contains(text, "acs.amazonaws.com/groups/global/AllUsers")
}

_public_acl_grants contains "all users" if {
	some acl in _as_list(input.requestParameters["x-amz-acl"])
	acl in {"public-read", "public-read-write"}
}

_public_acl_grants contains "any authenticated AWS user" if {
	text := json.marshal(input.requestParameters)
	contains(text, "acs.amazonaws.com/groups/global/AuthenticatedUsers")
}

_public_acl_grants contains "any authenticated AWS user" if {
	some acl in _as_list(input.requestParameters["x-amz-acl"])
	acl == "authenticated-read"
}

_as_list(v) := v if is_array(v)

else := [v]
