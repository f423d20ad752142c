# METADATA
# title: Network gateway changed
# description: >-
#   Someone created, deleted, attached or detached an internet gateway or
#   customer gateway (CIS AWS Foundations 4.12). Gateways decide which
#   networks a VPC can reach: a new internet gateway can give private
#   workloads a path out for exfiltration.
# custom:
#   id: aws.network_gateway_change
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1599}]
#   tags: [cis-4.12, ec2, network, exfiltration]
#   runbook: >-
#     Confirm with the VPC's owner that the gateway change was planned. Detach
#     unexpected internet gateways and delete unknown customer gateways, then
#     check the VPC's route tables and flow logs for traffic through them.
#   references:
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-12
#     - https://www.cisecurity.org/benchmark/amazon_web_services
#     - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
package rules.aws.network_gateway_change

import rego.v1

import data.lib.cloudtrail

# CIS 4.12 counts attempts as well as changes, so success is not required:
# a refused attempt to connect a VPC is worth knowing about too.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName in {
		"CreateCustomerGateway",
		"DeleteCustomerGateway",
		"AttachInternetGateway",
		"CreateInternetGateway",
		"DeleteInternetGateway",
		"DetachInternetGateway",
	}

	# Request parameters that name what was changed, where the call has them.
	msg := cloudtrail.describe_call(input, ["internetGatewayId", "customerGatewayId", "vpcId", "ipAddress"])
}
