package rules.threats.ec2_user_data_modified_test

import rego.v1

import data.rules.threats.ec2_user_data_modified as rule

# ModifyInstanceAttribute (EC2 API reference: InstanceId, UserData, or
# Attribute with Value); CloudTrail redacts the script.
modify(params) := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/dev/kim", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "ModifyInstanceAttribute",
	"awsRegion": "us-west-1",
	"sourceIPAddress": "203.0.113.5",
	"requestParameters": params,
	"responseElements": {"_return": true},
	"recipientAccountId": "111122223333",
}

test_fires_on_user_data if {
	alerts := rule.alert with input as modify({"instanceId": "i-0abc", "userData": "<sensitiveDataRemoved>"})
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/dev/kim replaced the user data of instance i-0abc in us-west-1 from 203.0.113.5"}}
}

test_fires_on_attribute_form if {
	count(rule.alert) == 1 with input as modify({"instanceId": "i-0abc", "attribute": "userData", "value": "<sensitiveDataRemoved>"})
	count(rule.alert) == 1 with input as modify({"instanceId": "i-0abc", "userData": {"value": "<sensitiveDataRemoved>"}})
}

test_quiet_for_other_attributes if {
	count(rule.alert) == 0 with input as modify({"instanceId": "i-0abc", "instanceType": {"value": "m5.large"}})
	count(rule.alert) == 0 with input as modify({"instanceId": "i-0abc", "disableApiTermination": {"value": true}})
	count(rule.alert) == 0 with input as modify({"instanceId": "i-0abc", "userData": ""})
	count(rule.alert) == 0 with input as modify(null)
}

test_quiet_for_failures_and_services if {
	count(rule.alert) == 0 with input as object.union(modify({"instanceId": "i-0abc", "userData": "x"}), {"errorCode": "IncorrectInstanceState"})
	count(rule.alert) == 0 with input as object.union(modify({"instanceId": "i-0abc", "userData": "x"}), {"sourceIPAddress": "cloudformation.amazonaws.com"})
}
