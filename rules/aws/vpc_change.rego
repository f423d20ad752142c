# METADATA
# title: VPC changed
# description: >-
#   Someone created, deleted or modified a VPC, or changed its peering
#   connections or ClassicLink (CIS AWS Foundations 4.14). Peering and
#   ClassicLink join networks together, opening paths between environments
#   that were meant to be apart.
# custom:
#   id: aws.vpc_change
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1599}]
#   tags: [cis-4.14, ec2, network, lateral-movement]
#   runbook: >-
#     Confirm the change with the network's owner. For peering, check who owns
#     the peer VPC (peerOwnerId); reject or delete unexpected peering
#     connections and review the routes that use them.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-14
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/vpc/latest/peering/what-is-vpc-peering.html
package rules.aws.vpc_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.14 counts attempts as well as changes, so success is not required:
# a refused attempt to join networks is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName in {
		"CreateVpc",
		"DeleteVpc",
		"ModifyVpcAttribute",
		"AcceptVpcPeeringConnection",
		"CreateVpcPeeringConnection",
		"DeleteVpcPeeringConnection",
		"RejectVpcPeeringConnection",
		"AttachClassicLinkVpc",
		"DetachClassicLinkVpc",
		"DisableVpcClassicLink",
		"EnableVpcClassicLink",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["vpcId", "cidrBlock", "vpcPeeringConnectionId", "peerVpcId", "peerOwnerId", "peerRegion"])
}
