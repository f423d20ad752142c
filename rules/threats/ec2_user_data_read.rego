# METADATA
# title: EC2 instance user data read
# description: >-
#   Someone asked EC2 for an instance's user data (DescribeInstanceAttribute
#   with attribute userData). User data is the boot script, and often holds
#   the passwords, tokens and keys the instance was set up with; reading it
#   across instances is a standard step of cloud discovery tools. Refused
#   calls are reported too. Severity medium: the console calls it when someone
#   views an instance's user data, but few people do, and rarely for many
#   instances.
# custom:
#   id: threats.ec2_user_data_read
#   severity: medium
#   attack:
#     - {tactic: TA0006, technique: T1552}
#     - {tactic: TA0007, technique: T1580}
#   tags: [credential-access, discovery, ec2, T1552, T1580]
#   runbook: >-
#     Ask the principal's owner why they read it. If the user data holds
#     secrets, rotate them and move them to Secrets Manager or Parameter
#     Store.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceAttribute.html
#     - https://hackingthe.cloud/aws/general-knowledge/introduction_user_data/
#     - https://attack.mitre.org/techniques/T1552/
package rules.threats.ec2_user_data_read

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "DescribeInstanceAttribute"
	input.requestParameters.attribute == "userData"
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["instanceId", "attribute"])
}
