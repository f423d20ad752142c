# METADATA
# title: OpsWorks CM call from an unknown network
# description: >-
#   Someone called the OpsWorks CM API from an IP address outside every
#   network listed in known_networks. Configuration servers hold credentials
#   for every managed node, so they should be administered only from known
#   places; a call from elsewhere suggests leaked credentials. The rule is
#   inert until known_networks is configured.
# custom:
#   id: opsworkscm.unknown_source_ip
#   severity: medium
#   attack: [{tactic: TA0001, technique: T1078.004}]
#   tags: [opsworks-cm, network, T1078]
#   runbook: >-
#     Check who owns the source address (VPN egress, new office, CI runner?).
#     If it is legitimate, add its range to known_networks. If not, treat the
#     principal's credentials as compromised and review its other calls.
#   references:
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
#     - https://attack.mitre.org/techniques/T1078/004/
package rules.opsworkscm.unknown_source_ip

import rego.v1

import data.lib.cloudtrail

# Only real IP addresses are judged: sourceIPAddress can also be a service name
# (a call CloudFormation made) or "AWS Internal", which have no network.
alert contains {"message": msg} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	ip := input.sourceIPAddress
	cloudtrail.outside_known_networks(ip)
	msg := sprintf("%s called %s%s in %s from %s, outside every known network%s", [
		cloudtrail.principal(input),
		cloudtrail.action(input),
		cloudtrail.params(input, ["serverName", "backupId"]),
		cloudtrail.region(input),
		ip,
		cloudtrail.outcome(input),
	])
}
