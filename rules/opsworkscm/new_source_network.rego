# METADATA
# title: OpsWorks CM call from a network new for the account
# description: >-
#   When no known_networks are configured, opsworkscm.unknown_source_ip has
#   nothing to compare with, so this rule learns instead: it alerts on an
#   OpsWorks CM call from a network (IPv4 /24, IPv6 /48) that none of the
#   account's OpsWorks CM calls of the last 90 days came from. Each account's
#   first 7 days (event time) are learned silently; a network unused for 90
#   days is new again. Configuration servers hold credentials for every
#   managed node and are administered from a few places, so a new one
#   suggests leaked credentials. With known_networks configured this rule is
#   quiet and opsworkscm.unknown_source_ip judges every call: a rule's
#   stateful METADATA cannot depend on data, hence two rules.
# custom:
#   id: opsworkscm.new_source_network
#   severity: medium
#   attack: [{tactic: TA0001, technique: T1078.004}]
#   tags: [opsworks-cm, network, stateful, T1078]
#   new_value:
#     fields: [network]
#     group_by: [account_id]
#     learn: 7d
#     forget: 90d
#   runbook: >-
#     Check who owns the network (VPN egress, new office, CI runner?). If it
#     is legitimate, nothing to do: it is now known (or list your networks in
#     known_networks). If not, treat the principal's credentials as
#     compromised and review its other calls.
#   references:
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
#     - https://attack.mitre.org/techniques/T1078/004/
package rules.opsworkscm.new_source_network

import rego.v1

import data.lib.cloudtrail

# Service names and "AWS Internal" have no network and are not judged.
alert contains {"message": msg, "network": network} if {
	input.eventSource == "opsworks-cm.amazonaws.com"
	count(cloudtrail.known_networks) == 0
	ip := input.sourceIPAddress
	network := cloudtrail.network(ip)
	msg := sprintf("%s called %s%s in %s from %s (%s)%s", [
		cloudtrail.principal(input),
		cloudtrail.action(input),
		cloudtrail.params(input, ["serverName", "backupId"]),
		cloudtrail.region(input),
		ip,
		network,
		cloudtrail.outcome(input),
	])
}
