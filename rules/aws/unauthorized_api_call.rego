# METADATA
# title: Unauthorized API call
# description: >-
#   A call was refused for lack of permission (CIS AWS Foundations 4.1).
#   Stolen credentials being tried against services they cannot reach look
#   like this, and so does automation running with the wrong role.
# custom:
#   id: aws.unauthorized_api_call
#   severity: low
#   attack: [{tactic: TA0007, technique: T1580}]
#   tags: [cis-4.1, iam, discovery, T1580]
#   runbook: >-
#     One refusal is usually a mistake or a console page probing optional
#     permissions. Look for a pattern: many different calls from one principal,
#     calls from an unusual address, or a principal that should not be active.
#     If so, investigate the credentials; otherwise fix the role or ignore.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-2
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://attack.mitre.org/techniques/T1580/
package rules.aws.unauthorized_api_call

import rego.v1

import data.lib.cloudtrail

# The CIS 4.1 filter, with its two exclusions: log delivery probing bucket
# permissions, and HeadBucket, which clients send to test whether a bucket
# exists and which fails with AccessDenied as a matter of course.
alert contains {"message": msg} if {
	# Indexed pre-filter: most events have no errorCode and stop here cheaply.
	input.errorCode
	cloudtrail.denied(input)
	not input.sourceIPAddress == "delivery.logs.amazonaws.com"
	not input.eventName == "HeadBucket"
	msg := cloudtrail.describe_call(input, [])
}
