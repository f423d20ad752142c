package rules.aws.route_table_change_test

import rego.v1

import data.rules.aws.route_table_change as rule

# invictus-ir/aws_dataset: CreateRoute from a Stratus Red Team run, trimmed (samples/invictus-ir_aws_dataset).
create_route := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:55:14Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "CreateRoute",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"routeTableId": "rtb-0c7c2f4aff3677054",
		"destinationCidrBlock": "0.0.0.0/0",
		"gatewayId": "igw-02a84e4222d62e16b",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_create_route if {
	alerts := rule.alert with input as create_route
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:CreateRoute (routeTableId="rtb-0c7c2f4aff3677054", destinationCidrBlock="0.0.0.0/0", gatewayId="igw-02a84e4222d62e16b") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.13 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(create_route, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: ec2:CreateRoute",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:CreateRoute (routeTableId="rtb-0c7c2f4aff3677054", destinationCidrBlock="0.0.0.0/0", gatewayId="igw-02a84e4222d62e16b") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"CreateRoute",
		"CreateRouteTable",
		"ReplaceRoute",
		"ReplaceRouteTableAssociation",
		"DeleteRouteTable",
		"DeleteRoute",
		"DisassociateRouteTable",
	} {
		count(rule.alert) == 1 with input as object.union(create_route, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(create_route, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called ec2:CreateRoute in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(create_route, {"eventName": "DescribeRouteTables", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(create_route, {"eventSource": "sts.amazonaws.com"})
}

# CreateRoute exists in apigateway too; only ec2 counts here.
test_quiet_for_the_same_name_in_apigateway if {
	count(rule.alert) == 0 with input as object.union(create_route, {"eventSource": "apigateway.amazonaws.com", "eventName": "CreateRoute"})
}
