package rules.threats.ec2_user_data_read_test

import rego.v1

import data.rules.threats.ec2_user_data_read as rule

# DescribeInstanceAttribute (EC2 API reference: InstanceId, Attribute, one of
# instanceType | kernel | ramdisk | userData | … ).
describe(attribute) := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/audit/x", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "DescribeInstanceAttribute",
	"awsRegion": "ap-southeast-2",
	"sourceIPAddress": "198.51.100.99",
	"requestParameters": {"instanceId": "i-0abc", "attribute": attribute},
	"responseElements": null,
	"readOnly": true,
	"recipientAccountId": "111122223333",
}

test_fires_on_user_data if {
	alerts := rule.alert with input as describe("userData")
	alerts == {{"message": `arn:aws:sts::111122223333:assumed-role/audit/x called ec2:DescribeInstanceAttribute (instanceId="i-0abc", attribute="userData") in ap-southeast-2 from 198.51.100.99`}}
}

test_fires_on_refused_attempts if {
	count(rule.alert) == 1 with input as object.union(describe("userData"), {"errorCode": "Client.UnauthorizedOperation"})
}

test_quiet_for_other_attributes if {
	count(rule.alert) == 0 with input as describe("instanceType")
	count(rule.alert) == 0 with input as describe("disableApiTermination")
	count(rule.alert) == 0 with input as object.union(describe("userData"), {"requestParameters": null})
}

test_quiet_for_services if {
	count(rule.alert) == 0 with input as object.union(describe("userData"), {"sourceIPAddress": "autoscaling.amazonaws.com"})
}
