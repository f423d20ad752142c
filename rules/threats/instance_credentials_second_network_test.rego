package rules.threats.instance_credentials_second_network_test

import rego.v1

import data.rules.threats.instance_credentials_second_network as rule

# A stolen instance-role session's DescribeInstances, from a published
# detonation log of instance-credential theft, trimmed.
describe := {
	"eventVersion": "1.09",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "AROALHCCSKSM395EGX3XN:i-0a1b2c3d4e5f60718",
		"arn": "arn:aws:sts::111122223333:assumed-role/app-instance-role/i-0a1b2c3d4e5f60718",
		"accountId": "111122223333",
		"accessKeyId": "ASIAEXAMPLE",
		"sessionContext": {"ec2RoleDelivery": "2.0", "attributes": {"mfaAuthenticated": "false"}},
	},
	"eventTime": "2024-08-02T08:23:56Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "DescribeInstances",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "18.236.253.47",
	"eventID": "394cf343-b9cf-48ce-8a94-e188656ae8ba",
}

test_candidate_with_session_and_network if {
	alerts := rule.alert with input as describe
	alerts == {{
		"message": "arn:aws:sts::111122223333:assumed-role/app-instance-role/i-0a1b2c3d4e5f60718 (instance i-0a1b2c3d4e5f60718) called ec2:DescribeInstances in us-west-2 from 18.236.253.47",
		"session": "AROALHCCSKSM395EGX3XN:i-0a1b2c3d4e5f60718",
		"network": "18.236.253.0/24",
	}}
}

test_ipv6_network_is_its_48 if {
	[a] := [a | some a in rule.alert] with input as object.union(describe, {"sourceIPAddress": "2600:1f14:abc:1::5"})
	a.network == "2600:1f14:abc::/48"
}

test_quiet_for_other_sessions if {
	user_role := json.patch(describe, [{"op": "replace", "path": "/userIdentity/principalId", "value": "AROALHCCSKSM395EGX3XN:dana"}])
	count(rule.alert) == 0 with input as user_role
	iam_user := json.patch(describe, [{"op": "replace", "path": "/userIdentity/type", "value": "IAMUser"}])
	count(rule.alert) == 0 with input as iam_user
	not_from_imds := json.patch(describe, [{"op": "remove", "path": "/userIdentity/sessionContext/ec2RoleDelivery"}])
	count(rule.alert) == 0 with input as not_from_imds
}

test_imdsv1_credentials_too if {
	v1 := json.patch(describe, [{"op": "replace", "path": "/userIdentity/sessionContext/ec2RoleDelivery", "value": "1.0"}])
	count(rule.alert) == 1 with input as v1
}

test_quiet_inside_the_vpc_and_for_services if {
	count(rule.alert) == 0 with input as object.union(describe, {"sourceIPAddress": "10.1.2.3"})
	count(rule.alert) == 0 with input as object.union(describe, {"sourceIPAddress": "fd00::1"})
	count(rule.alert) == 0 with input as object.union(describe, {"vpcEndpointId": "vpce-0123456789abcdef0"})
	count(rule.alert) == 0 with input as object.union(describe, {"sourceIPAddress": "ec2.amazonaws.com"})
	count(rule.alert) == 0 with input as object.union(describe, {"sourceIPAddress": "AWS Internal"})
}
