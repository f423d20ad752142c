# METADATA
# title: Root user activity
# description: >-
#   The account's root user signed in or made a call (CIS AWS Foundations 4.3).
#   Root cannot be restricted by IAM policies and should be used only for the
#   few tasks that need it, so any use needs an owner and a reason.
# custom:
#   id: aws.root_usage
#   severity: critical
#   attack: [{tactic: TA0001, technique: T1078.004}, {tactic: TA0004, technique: T1078.004}]
#   tags: [cis-4.3, root, iam, T1078.004]
#   runbook: >-
#     Find out who holds the root credentials and whether this use was planned.
#     If not, change the root password, replace its MFA device, delete any root
#     access keys, and review everything root did in the same session.
#   references:
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1
#     - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html
package rules.aws.root_usage

import rego.v1

import data.lib.cloudtrail

# CIS 4.3: userIdentity.type = Root, not invoked by a service (sign-in aside),
# and not an AwsServiceEvent (AWS acting in the account, e.g. a key rotation).
# Failed attempts count too: someone is trying the root credentials.
alert contains {"message": msg} if {
	input.userIdentity.type == "Root"
	cloudtrail.root_actor(input)
	not input.eventType == "AwsServiceEvent"
	msg := sprintf("Root user activity: %s", [cloudtrail.describe_call(input, [])])
}
