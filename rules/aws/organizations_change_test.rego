package rules.aws.organizations_change_test

import rego.v1

import data.rules.aws.organizations_change as rule

# Shaped like the invictus-ir/aws_dataset records; request parameters as in the Organizations API reference.
detach_policy := {
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
	"eventSource": "organizations.amazonaws.com",
	"eventName": "DetachPolicy",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"policyId": "p-examplepolicyid111",
		"targetId": "ou-examplerootid111-exampleouid111",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_detach_policy if {
	alerts := rule.alert with input as detach_policy
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called organizations:DetachPolicy (policyId="p-examplepolicyid111", targetId="ou-examplerootid111-exampleouid111") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.15 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(detach_policy, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: organizations:DetachPolicy",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called organizations:DetachPolicy (policyId="p-examplepolicyid111", targetId="ou-examplerootid111-exampleouid111") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"AcceptHandshake",
		"AttachPolicy",
		"CreateAccount",
		"CreateOrganizationalUnit",
		"CreatePolicy",
		"DeclineHandshake",
		"DeleteOrganization",
		"DeleteOrganizationalUnit",
		"DeletePolicy",
		"DetachPolicy",
		"DisablePolicyType",
		"EnablePolicyType",
		"InviteAccountToOrganization",
		"LeaveOrganization",
		"MoveAccount",
		"RemoveAccountFromOrganization",
		"UpdatePolicy",
		"UpdateOrganizationalUnit",
	} {
		count(rule.alert) == 1 with input as object.union(detach_policy, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(detach_policy, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called organizations:DetachPolicy in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(detach_policy, {"eventName": "ListAccounts", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(detach_policy, {"eventSource": "sts.amazonaws.com"})
}

# CreatePolicy exists in iam too; only organizations counts here.
test_quiet_for_the_same_name_in_iam if {
	count(rule.alert) == 0 with input as object.union(detach_policy, {"eventSource": "iam.amazonaws.com", "eventName": "CreatePolicy"})
}
