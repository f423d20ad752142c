package rules.aws.security_group_change_test

import rego.v1

import data.rules.aws.security_group_change as rule

# Shaped like the invictus-ir/aws_dataset records; request parameters as CloudTrail records them for EC2.
authorize_security_group_ingress := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:54:39Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "AuthorizeSecurityGroupIngress",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"groupId": "sg-0f1e2d3c4b5a69788",
		"ipPermissions": {
			"items": [
				{
					"ipProtocol": "tcp",
					"fromPort": 22,
					"toPort": 22,
					"groups": {},
					"ipRanges": {
						"items": [
							{
								"cidrIp": "0.0.0.0/0",
							},
						],
					},
					"ipv6Ranges": {},
					"prefixListIds": {},
				},
			],
		},
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_authorize_security_group_ingress if {
	alerts := rule.alert with input as authorize_security_group_ingress
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:AuthorizeSecurityGroupIngress (groupId="sg-0f1e2d3c4b5a69788") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.10 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(authorize_security_group_ingress, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: ec2:AuthorizeSecurityGroupIngress",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:AuthorizeSecurityGroupIngress (groupId="sg-0f1e2d3c4b5a69788") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"AuthorizeSecurityGroupIngress",
		"AuthorizeSecurityGroupEgress",
		"RevokeSecurityGroupIngress",
		"RevokeSecurityGroupEgress",
		"CreateSecurityGroup",
		"DeleteSecurityGroup",
	} {
		count(rule.alert) == 1 with input as object.union(authorize_security_group_ingress, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(authorize_security_group_ingress, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called ec2:AuthorizeSecurityGroupIngress in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(authorize_security_group_ingress, {"eventName": "DescribeSecurityGroups", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(authorize_security_group_ingress, {"eventSource": "sts.amazonaws.com"})
}
