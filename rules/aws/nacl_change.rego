# METADATA
# title: Network ACL changed
# description: >-
#   Someone created, deleted or changed a network ACL, its entries or its
#   subnet associations (CIS AWS Foundations 4.11). NACLs are the subnet
#   firewall; a changed entry can open or cut off whole subnets.
# custom:
#   id: aws.nacl_change
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1562.007}]
#   tags: [cis-4.11, ec2, network, defense-evasion, T1562.007]
#   runbook: >-
#     Look at the entry the call created or replaced (ruleNumber, ruleAction,
#     cidrBlock, ports in the event). Revert unexpected allow rules for wide
#     ranges and confirm the change with the network's owner.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-11
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
#     - https://attack.mitre.org/techniques/T1562/007/
package rules.aws.nacl_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.11 counts attempts as well as changes, so success is not required:
# a refused attempt to open a subnet is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName in {
		"CreateNetworkAcl",
		"CreateNetworkAclEntry",
		"DeleteNetworkAcl",
		"DeleteNetworkAclEntry",
		"ReplaceNetworkAclEntry",
		"ReplaceNetworkAclAssociation",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["networkAclId", "ruleNumber", "egress", "ruleAction", "cidrBlock", "ipv6CidrBlock", "associationId", "vpcId"])
}
