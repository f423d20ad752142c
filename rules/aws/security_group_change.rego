# METADATA
# title: Security group changed
# description: >-
#   Someone created or deleted a security group or changed its rules (CIS AWS
#   Foundations 4.10). Security groups are the instance firewall; one opened
#   rule can expose a database or SSH to the internet.
# custom:
#   id: aws.security_group_change
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1562.007}]
#   tags: [cis-4.10, ec2, network, defense-evasion, T1562.007]
#   runbook: >-
#     Look at the rules the call added or removed (ipPermissions in the
#     event). Revert anything that opens sensitive ports to 0.0.0.0/0 or ::/0
#     or to unknown ranges, and confirm the change with the group's owner.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-10
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html
#     - https://attack.mitre.org/techniques/T1562/007/
package rules.aws.security_group_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.10 counts attempts as well as changes, so success is not required:
# a refused attempt to open the firewall is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName in {
		"AuthorizeSecurityGroupIngress",
		"AuthorizeSecurityGroupEgress",
		"RevokeSecurityGroupIngress",
		"RevokeSecurityGroupEgress",
		"CreateSecurityGroup",
		"DeleteSecurityGroup",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["groupId", "groupName", "vpcId"])
}
