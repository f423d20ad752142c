package rules.aws.network_gateway_change_test

import rego.v1

import data.rules.aws.network_gateway_change as rule

# Shaped like the invictus-ir/aws_dataset records (same VPC and gateway ids); request parameters as CloudTrail records them for EC2.
attach_internet_gateway := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:55:13Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "AttachInternetGateway",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"internetGatewayId": "igw-02a84e4222d62e16b",
		"vpcId": "vpc-06fe1a64761a0f720",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_attach_internet_gateway if {
	alerts := rule.alert with input as attach_internet_gateway
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:AttachInternetGateway (internetGatewayId="igw-02a84e4222d62e16b", vpcId="vpc-06fe1a64761a0f720") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.12 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(attach_internet_gateway, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: ec2:AttachInternetGateway",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:AttachInternetGateway (internetGatewayId="igw-02a84e4222d62e16b", vpcId="vpc-06fe1a64761a0f720") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"CreateCustomerGateway",
		"DeleteCustomerGateway",
		"AttachInternetGateway",
		"CreateInternetGateway",
		"DeleteInternetGateway",
		"DetachInternetGateway",
	} {
		count(rule.alert) == 1 with input as object.union(attach_internet_gateway, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(attach_internet_gateway, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called ec2:AttachInternetGateway in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(attach_internet_gateway, {"eventName": "DescribeInternetGateways", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(attach_internet_gateway, {"eventSource": "sts.amazonaws.com"})
}
