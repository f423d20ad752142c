# METADATA
# title: OpsWorks CM server created with a public IP address
# description: >-
#   Someone created an OpsWorks CM server with a public IP address. The
#   server's Chef or Puppet API and web console then face the internet, where
#   they can be brute-forced or exploited, instead of only the VPC.
# custom:
#   id: opsworkscm.public_server
#   severity: medium
#   attack: [{tactic: TA0001, technique: T1133}]
#   tags: [opsworks-cm, network, exposure]
#   runbook: >-
#     Check the server's security groups: its ports (443, 8140 for Puppet)
#     should be open only to the nodes' networks. If public access was not
#     intended, recreate the server in a private subnet.
#   references:
#     - https://docs.aws.amazon.com/opsworks-cm/latest/APIReference/API_CreateServer.html
package rules.opsworkscm.public_server

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	input.eventName == "CreateServer"
	input.requestParameters.associatePublicIpAddress == true
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["serverName", "associatePublicIpAddress", "subnetIds"])
}
