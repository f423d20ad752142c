# METADATA
# title: Security group opens an administration or database port to the internet
# description: >-
#   An inbound security group rule now admits every address (a /0 block,
#   such as 0.0.0.0/0 or ::/0) on all ports or on a port for remote
#   administration or a database (SSH, RDP, VNC, SMB, WinRM, MySQL,
#   PostgreSQL, SQL Server, Oracle, Redis, Elasticsearch, MongoDB, Docker,
#   …). Internet-wide scanners find such ports within minutes, and attackers
#   open them for their own way back in. Web ports (80, 443) are not
#   reported. aws.security_group_change reports every change at medium;
#   this one is high because the exposure is the dangerous kind.
# custom:
#   id: threats.security_group_open_to_world
#   severity: high
#   attack: [{tactic: TA0005, technique: T1562.007}]
#   tags: [defense-evasion, ec2, network, exposure, T1562.007]
#   runbook: >-
#     Revoke the rule (RevokeSecurityGroupIngress with the securityGroupRuleId
#     in responseElements) unless its owner needs it, and then restrict it to
#     known networks. Check the instances in the group for logins since.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
#     - https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19
#     - https://attack.mitre.org/techniques/T1562/007/
package rules.threats.security_group_open_to_world

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "AuthorizeSecurityGroupIngress"
	cloudtrail.succeeded(input)
	opened := {sprintf("%s %s", [cidr, _ports(p)]) |
		some p in _permissions
		_sensitive(p)
		some cidr in _world_cidrs(p)
	}
	count(opened) > 0
	msg := sprintf("%s opened security group %s to the internet (%s) in %s from %s", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "groupId"),
		concat(", ", sort(opened)),
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

# The old single-rule form puts cidrIp and the ports at the top of the
# request; the usual form lists ipPermissions.items, each with
# ipRanges.items[].cidrIp and ipv6Ranges.items[].cidrIpv6.
_permissions contains p if {
	p := input.requestParameters
	is_string(p.cidrIp)
}

_permissions contains p if {
	some p in input.requestParameters.ipPermissions.items
}

_world_cidrs(p) := {c |
	some c in array.concat(
		[p.cidrIp | is_string(p.cidrIp)],
		array.concat(
			[r.cidrIp | some r in p.ipRanges.items],
			[r.cidrIpv6 | some r in p.ipv6Ranges.items],
		),
	)
	cloudtrail.is_world_cidr(c)
}

# Remote administration, file sharing, databases, caches, search engines,
# container daemons and their usual alternates.
_admin_ports := {
	21, 22, 23, 135, 139, 445, 1433, 1521, 2049, 2375, 2376, 3306, 3389,
	5432, 5439, 5601, 5900, 5984, 5985, 5986, 6379, 7001, 8020, 9042,
	9200, 9300, 11211, 27017, 27018,
}

# Protocol -1 (or "all") opens every port; tcp/udp ranges open the admin
# ports inside them. ICMP and other protocols are not reported.
_sensitive(p) if p.ipProtocol in {"all", "-1", -1}

_sensitive(p) if {
	_tcp_or_udp(p)
	is_number(p.fromPort)
	is_number(p.toPort)
	some port in _admin_ports
	p.fromPort <= port
	port <= p.toPort
}

_sensitive(p) if {
	_tcp_or_udp(p)
	p.fromPort == -1
}

_tcp_or_udp(p) if {
	is_string(p.ipProtocol)
	lower(p.ipProtocol) in {"tcp", "udp", "6", "17"}
}

_ports(p) := "all ports" if p.ipProtocol in {"all", "-1", -1}

else := sprintf("%s/%d", [p.ipProtocol, p.fromPort]) if p.fromPort == p.toPort

else := sprintf("%s/%v-%v", [p.ipProtocol, p.fromPort, p.toPort])
