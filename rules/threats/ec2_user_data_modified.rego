# METADATA
# title: EC2 instance user data changed
# description: >-
#   Someone replaced an instance's user data (ModifyInstanceAttribute with
#   userData). The new script runs as root the next time the instance
#   starts, and the instance's role credentials come with it: stop, modify,
#   start is a known way from ec2:ModifyInstanceAttribute to code execution
#   and privilege escalation. Severity high: with images built ahead of time
#   and launch templates, user data of a running fleet almost never changes
#   in place.
# custom:
#   id: threats.ec2_user_data_modified
#   severity: high
#   attack: [{tactic: TA0002, technique: T1651}]
#   tags: [execution, privilege-escalation, ec2, T1651]
#   runbook: >-
#     Read the new user data (DescribeInstanceAttribute) before the instance
#     starts again. If nobody owns the change, restore the previous script,
#     and if the instance already booted with it, treat it and its role as
#     compromised.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html
#     - https://hackingthe.cloud/aws/exploitation/local-priv-esc-mod-instance-att/
#     - https://attack.mitre.org/techniques/T1651/
package rules.threats.ec2_user_data_modified

import rego.v1

import data.lib.cloudtrail

# CloudTrail writes the new script as "<sensitiveDataRemoved>" (or as an
# object with a value), so only its presence is tested; the older form names
# the attribute instead.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "ModifyInstanceAttribute"
	_sets_user_data
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	msg := sprintf("%s replaced the user data of instance %s in %s from %s", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "instanceId"),
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

_sets_user_data if {
	script := input.requestParameters.userData
	not script in {null, ""}
}

_sets_user_data if input.requestParameters.attribute == "userData"
