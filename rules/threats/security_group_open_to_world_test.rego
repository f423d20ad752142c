package rules.threats.security_group_open_to_world_test

import rego.v1

import data.rules.threats.security_group_open_to_world as rule

# AuthorizeSecurityGroupIngress (EC2 API reference: GroupId, IpPermissions
# with IpProtocol, FromPort, ToPort, IpRanges.CidrIp, Ipv6Ranges.CidrIpv6;
# or the older CidrIp, IpProtocol, FromPort, ToPort).
authorize(params) := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "AuthorizeSecurityGroupIngress",
	"awsRegion": "us-east-2",
	"sourceIPAddress": "203.0.113.93",
	"requestParameters": params,
	"responseElements": {"_return": true},
	"recipientAccountId": "111122223333",
}

permission(protocol, from, to, cidrs, cidrs6) := {
	"groupId": "sg-0abc",
	"ipPermissions": {"items": [{
		"ipProtocol": protocol, "fromPort": from, "toPort": to,
		"ipRanges": {"items": [{"cidrIp": c} | some c in cidrs]},
		"ipv6Ranges": {"items": [{"cidrIpv6": c} | some c in cidrs6]},
	}]},
}

test_fires_for_ssh_from_anywhere if {
	alerts := rule.alert with input as authorize(permission("tcp", 22, 22, ["0.0.0.0/0"], []))
	alerts == {{"message": "arn:aws:iam::111122223333:user/dev opened security group sg-0abc to the internet (0.0.0.0/0 tcp/22) in us-east-2 from 203.0.113.93"}}
}

test_fires_for_old_form_and_any_world_block if {
	alerts := rule.alert with input as authorize({"groupId": "sg-0abc", "cidrIp": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389})
	alerts == {{"message": "arn:aws:iam::111122223333:user/dev opened security group sg-0abc to the internet (0.0.0.0/0 tcp/3389) in us-east-2 from 203.0.113.93"}}
	count(rule.alert) == 1 with input as authorize(permission("tcp", 5432, 5432, [], ["::/0"]))
	count(rule.alert) == 1 with input as authorize(permission("tcp", 22, 22, ["198.51.100.1/0"], []))
}

test_fires_for_all_ports_and_ranges if {
	alerts := rule.alert with input as authorize(permission("-1", -1, -1, ["0.0.0.0/0"], []))
	alerts == {{"message": "arn:aws:iam::111122223333:user/dev opened security group sg-0abc to the internet (0.0.0.0/0 all ports) in us-east-2 from 203.0.113.93"}}
	range_alerts := rule.alert with input as authorize(permission("tcp", 1000, 4000, ["0.0.0.0/0"], []))
	range_alerts == {{"message": "arn:aws:iam::111122223333:user/dev opened security group sg-0abc to the internet (0.0.0.0/0 tcp/1000-4000) in us-east-2 from 203.0.113.93"}}
}

test_quiet_for_web_ports_and_narrow_sources if {
	count(rule.alert) == 0 with input as authorize(permission("tcp", 443, 443, ["0.0.0.0/0"], ["::/0"]))
	count(rule.alert) == 0 with input as authorize(permission("tcp", 80, 80, ["0.0.0.0/0"], []))
	count(rule.alert) == 0 with input as authorize(permission("tcp", 22, 22, ["10.0.0.0/8", "203.0.113.0/24"], []))
	count(rule.alert) == 0 with input as authorize(permission("icmp", -1, -1, ["0.0.0.0/0"], []))
	count(rule.alert) == 0 with input as authorize({"groupId": "sg-0abc", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {"items": [{"groupId": "sg-0def"}]}}]}})
}

test_quiet_for_egress_failures_and_garbage if {
	count(rule.alert) == 0 with input as object.union(authorize(permission("tcp", 22, 22, ["0.0.0.0/0"], [])), {"eventName": "AuthorizeSecurityGroupEgress"})
	count(rule.alert) == 0 with input as object.union(authorize(permission("tcp", 22, 22, ["0.0.0.0/0"], [])), {"errorCode": "InvalidPermission.Duplicate"})
	count(rule.alert) == 0 with input as authorize(permission(6, "22", "22", ["not a cidr"], []))
	count(rule.alert) == 0 with input as authorize(null)
}
