# METADATA
# title: Instance credentials used from a second network
# description: >-
#   The temporary credentials of an EC2 instance's role (an AssumedRole
#   session named after the instance, principalId ending in :i-…, delivered
#   by the instance metadata service: sessionContext.ec2RoleDelivery) were used
#   from two or more public networks (IPv4 /24, IPv6 /48) within an hour
#   (event time). An instance calls AWS from its own address or its NAT
#   gateway's, one network; the same session from a second network is the
#   signature of credentials taken from the instance metadata service (SSRF,
#   a compromised workload) and used elsewhere, GuardDuty's
#   InstanceCredentialExfiltration. Private addresses and calls through VPC
#   endpoints are left out (an instance legitimately reaches some services
#   through an endpoint and others through its NAT), so use from another VPC
#   is not seen; calls an AWS service made with the role are left out too. A
#   stop and start that changes the instance's public address within the hour
#   also fires. Severity high: the role's permissions are in someone else's
#   hands.
# custom:
#   id: threats.instance_credentials_second_network
#   severity: high
#   attack: [{tactic: TA0006, technique: T1552.005}, {tactic: TA0005, technique: T1078.004}]
#   tags: [credential-access, ec2, imds, stateful, T1552.005, T1078.004]
#   threshold:
#     count: 2
#     window: 1h
#     group_by: [session]
#     distinct: network
#   runbook: >-
#     Compare the networks in the alert's events with the instance's public
#     address and NAT gateway. If one is foreign, revoke the role's active
#     sessions (an inline deny on aws:TokenIssueTime), find how the
#     credentials left the instance (IMDSv1, SSRF, a shell) and enforce IMDSv2.
#   references:
#     - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html#unauthorizedaccess-iam-instancecredentialexfiltrationoutsideaws
#     - https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ec2-steal-instance-credentials/
#     - https://attack.mitre.org/techniques/T1552/005/
package rules.threats.instance_credentials_second_network

import rego.v1

import data.lib.cloudtrail

# CloudTrail marks calls made with credentials the instance metadata service
# handed out with sessionContext.ec2RoleDelivery ("1.0": IMDSv1, "2.0":
# IMDSv2); the mark stays on the credentials wherever they are used. Testing
# it first lets the engine's index skip every other AssumedRole call, which
# is most of a trail.
alert contains {"message": msg, "session": session, "network": network} if {
	input.userIdentity.sessionContext.ec2RoleDelivery in {"1.0", "2.0"}
	input.userIdentity.type == "AssumedRole"
	session := input.userIdentity.principalId
	is_string(session)
	regex.match(`:i-[0-9a-fA-F]{8,17}$`, session)
	ip := input.sourceIPAddress
	network := cloudtrail.network(ip)
	not _private(ip)
	not input.vpcEndpointId
	not cloudtrail.by_aws_service(input)
	msg := sprintf("%s (instance %s) called %s in %s from %s", [
		cloudtrail.principal(input),
		split(session, ":")[1],
		cloudtrail.action(input),
		cloudtrail.region(input),
		ip,
	])
}

# RFC 1918, carrier-grade NAT and IPv6 unique-local addresses: the inside of
# a VPC.
_private(ip) if {
	some cidr in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]
	net.cidr_contains(cidr, ip)
}
