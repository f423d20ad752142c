# METADATA
# title: Route table changed
# description: >-
#   Someone created, replaced or deleted a route or route table, or changed
#   which subnets use it (CIS AWS Foundations 4.13). Routes decide where
#   traffic goes: a new default route can send private traffic out through an
#   attacker-chosen gateway or instance.
# custom:
#   id: aws.route_table_change
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1599}]
#   tags: [cis-4.13, ec2, network, exfiltration]
#   runbook: >-
#     Look at the route the call set (destination and target in the event).
#     Confirm it with the network's owner, and remove unexpected default
#     routes or routes through unknown instances, gateways or peering
#     connections.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-13
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
package rules.aws.route_table_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.13 counts attempts as well as changes, so success is not required:
# a refused attempt to reroute traffic is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName in {
		"CreateRoute",
		"CreateRouteTable",
		"ReplaceRoute",
		"ReplaceRouteTableAssociation",
		"DeleteRouteTable",
		"DeleteRoute",
		"DisassociateRouteTable",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "gatewayId", "natGatewayId", "instanceId", "vpcPeeringConnectionId", "associationId", "vpcId"])
}
