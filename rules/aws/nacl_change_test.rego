package rules.aws.nacl_change_test

import rego.v1

import data.rules.aws.nacl_change as rule

# Shaped like the invictus-ir/aws_dataset records; request parameters as CloudTrail records them for EC2.
create_network_acl_entry := {
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
	"eventName": "CreateNetworkAclEntry",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"networkAclId": "acl-0a1b2c3d4e5f60718",
		"ruleNumber": 90,
		"egress": false,
		"ruleAction": "allow",
		"icmpTypeCode": {},
		"portRange": {
			"from": 3389,
			"to": 3389,
		},
		"aclProtocol": "6",
		"cidrBlock": "0.0.0.0/0",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_create_network_acl_entry if {
	alerts := rule.alert with input as create_network_acl_entry
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:CreateNetworkAclEntry (networkAclId="acl-0a1b2c3d4e5f60718", ruleNumber=90, egress=false, ruleAction="allow", cidrBlock="0.0.0.0/0") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.11 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(create_network_acl_entry, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: ec2:CreateNetworkAclEntry",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called ec2:CreateNetworkAclEntry (networkAclId="acl-0a1b2c3d4e5f60718", ruleNumber=90, egress=false, ruleAction="allow", cidrBlock="0.0.0.0/0") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"CreateNetworkAcl",
		"CreateNetworkAclEntry",
		"DeleteNetworkAcl",
		"DeleteNetworkAclEntry",
		"ReplaceNetworkAclEntry",
		"ReplaceNetworkAclAssociation",
	} {
		count(rule.alert) == 1 with input as object.union(create_network_acl_entry, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(create_network_acl_entry, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called ec2:CreateNetworkAclEntry in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(create_network_acl_entry, {"eventName": "DescribeNetworkAcls", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(create_network_acl_entry, {"eventSource": "sts.amazonaws.com"})
}
