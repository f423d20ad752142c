package rules.aws.iam_policy_change_test

import rego.v1

import data.rules.aws.iam_policy_change as rule

# invictus-ir/aws_dataset: PutRolePolicy from a Stratus Red Team run, trimmed (samples/invictus-ir_aws_dataset).
put_role_policy := {
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
	"eventSource": "iam.amazonaws.com",
	"eventName": "PutRolePolicy",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"requestParameters": {
		"roleName": "stratus-red-team-ec2-get-password-data-role",
		"policyDocument": "{\"Statement\":[{\"Action\":[\"ec2:Describe*\"],\"Effect\":\"Allow\",\"Resource\":\"*\"}],\"Version\":\"2012-10-17\"}",
		"policyName": "inline-policy",
	},
	"responseElements": null,
	"readOnly": false,
	"eventType": "AwsApiCall",
	"managementEvent": true,
	"recipientAccountId": "123837392027",
	"eventCategory": "Management",
}

test_fires_on_put_role_policy if {
	alerts := rule.alert with input as put_role_policy
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called iam:PutRolePolicy (roleName="stratus-red-team-ec2-get-password-data-role", policyName="inline-policy") in us-east-1 from 192.168.10.20`}}
}

# CIS 4.4 counts attempts: a failed call fires too, and says so.
test_fires_on_failed_attempts if {
	event := object.union(put_role_policy, {
		"errorCode": "AccessDenied",
		"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: iam:PutRolePolicy",
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called iam:PutRolePolicy (roleName="stratus-red-team-ec2-get-password-data-role", policyName="inline-policy") in us-east-1 from 192.168.10.20; the call failed with AccessDenied`}}
}

test_fires_on_every_listed_call if {
	every name in {
		"DeleteGroupPolicy",
		"DeleteRolePolicy",
		"DeleteUserPolicy",
		"PutGroupPolicy",
		"PutRolePolicy",
		"PutUserPolicy",
		"CreatePolicy",
		"DeletePolicy",
		"CreatePolicyVersion",
		"DeletePolicyVersion",
		"AttachRolePolicy",
		"DetachRolePolicy",
		"AttachUserPolicy",
		"DetachUserPolicy",
		"AttachGroupPolicy",
		"DetachGroupPolicy",
	} {
		count(rule.alert) == 1 with input as object.union(put_role_policy, {"eventName": name})
	}
}

test_message_survives_missing_fields if {
	event := object.remove(put_role_policy, ["userIdentity", "awsRegion", "sourceIPAddress", "requestParameters"])
	alerts := rule.alert with input as event
	alerts == {{"message": "unknown identity called iam:PutRolePolicy in an unknown region from an unknown source"}}
}

test_quiet_for_read_only_calls if {
	count(rule.alert) == 0 with input as object.union(put_role_policy, {"eventName": "GetRolePolicy", "readOnly": true})
}

test_quiet_for_other_services if {
	count(rule.alert) == 0 with input as object.union(put_role_policy, {"eventSource": "sts.amazonaws.com"})
}

# CreatePolicy exists in organizations too; only iam counts here.
test_quiet_for_the_same_name_in_organizations if {
	count(rule.alert) == 0 with input as object.union(put_role_policy, {"eventSource": "organizations.amazonaws.com", "eventName": "CreatePolicy"})
}

# Granting administrator access is raised to high for that alert.
test_high_for_administrator_access if {
	attach := object.union(put_role_policy, {"eventName": "AttachUserPolicy", "requestParameters": {"userName": "new-admin", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}})
	alerts := rule.alert with input as json.patch(attach, [{"op": "remove", "path": "/requestParameters/policyDocument"}, {"op": "remove", "path": "/requestParameters/policyName"}, {"op": "remove", "path": "/requestParameters/roleName"}])
	alerts == {{"message": `arn:aws:iam::123837392027:user/bert-jan called iam:AttachUserPolicy (userName="new-admin", policyArn="arn:aws:iam::aws:policy/AdministratorAccess") in us-east-1 from 192.168.10.20`, "severity": "high"}}
}

test_high_for_star_policies if {
	every doc in [
		{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
		{"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": ["*"]}},
	] {
		alerts := rule.alert with input as json.patch(put_role_policy, [{"op": "replace", "path": "/requestParameters/policyDocument", "value": json.marshal(doc)}])
		{a.severity | some a in alerts} == {"high"}
	}
}

test_medium_for_narrow_or_removed_grants if {
	narrow := rule.alert with input as put_role_policy
	every a in narrow {
		not a.severity
	}
	detach := rule.alert with input as object.union(put_role_policy, {"eventName": "DetachUserPolicy", "requestParameters": {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}})
	count(detach) == 1
	every a in detach {
		not a.severity
	}
	deny_all := json.marshal({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
	denied := rule.alert with input as json.patch(put_role_policy, [{"op": "replace", "path": "/requestParameters/policyDocument", "value": deny_all}])
	every a in denied {
		not a.severity
	}
	scoped := json.marshal({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}]})
	scoped_alerts := rule.alert with input as json.patch(put_role_policy, [{"op": "replace", "path": "/requestParameters/policyDocument", "value": scoped}])
	every a in scoped_alerts {
		not a.severity
	}
	lookalike := rule.alert with input as object.union(put_role_policy, {"eventName": "AttachRolePolicy", "requestParameters": {"policyArn": "arn:aws:iam::123837392027:policy/NotAdministratorAccessReally"}})
	every a in lookalike {
		not a.severity
	}
}
