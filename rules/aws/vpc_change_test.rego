package rules.aws.vpc_change_test

import rego.v1

import data.rules.aws.vpc_change as rule

# invictus-ir/aws_dataset: CreateVpc from a Stratus Red Team run, trimmed (samples/invictus-ir_aws_dataset).
create_vpc := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:55:08Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "CreateVpc",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"cidrBlock": "10.0.0.0/16",
		"instanceTenancy": "default",
		"amazonProvidedIpv6CidrBlock": false,
		"tagSpecificationSet": {
			"items": [
				{
					"resourceType": "vpc",
					"tags": [
						{
							"key": "Name",
							"value": "stratus-red-team-ec2-steal-credentials-vpc",
						},
						{
							"key": "StratusRedTeam",
							"value": "true",
						},
					],
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

test_fires_on_create_vpc if {
	alerts := rule.alert with input as create_vpc
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:CreateVpc (cidrBlock="10.0.0.0/16") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.14 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(create_vpc, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: ec2:CreateVpc",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:CreateVpc (cidrBlock="10.0.0.0/16") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"CreateVpc",
		"DeleteVpc",
		"ModifyVpcAttribute",
		"AcceptVpcPeeringConnection",
		"CreateVpcPeeringConnection",
		"DeleteVpcPeeringConnection",
		"RejectVpcPeeringConnection",
		"AttachClassicLinkVpc",
		"DetachClassicLinkVpc",
		"DisableVpcClassicLink",
		"EnableVpcClassicLink",
	} {
		count(rule.alert) == 1 with input as object.union(create_vpc, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(create_vpc, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called ec2:CreateVpc in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(create_vpc, {"eventName": "DescribeVpcs", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(create_vpc, {"eventSource": "sts.amazonaws.com"})
}
