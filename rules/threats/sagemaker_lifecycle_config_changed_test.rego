package rules.threats.sagemaker_lifecycle_config_changed_test

import rego.v1

import data.rules.threats.sagemaker_lifecycle_config_changed as rule

# UpdateNotebookInstance (SageMaker API reference: NotebookInstanceName,
# LifecycleConfigName, InstanceType, …).
update(params) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ds", "accountId": "111122223333", "userName": "ds"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "sagemaker.amazonaws.com",
	"eventName": "UpdateNotebookInstance",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "198.51.100.3",
	"requestParameters": params,
	"recipientAccountId": "111122223333",
}

test_fires_on_attached_lifecycle_config if {
	alerts := rule.alert with input as update({"notebookInstanceName": "research", "lifecycleConfigName": "boot"})
	alerts == {{"message": `arn:aws:iam::111122223333:user/ds called sagemaker:UpdateNotebookInstance (notebookInstanceName="research", lifecycleConfigName="boot") in us-east-1 from 198.51.100.3`}}
}

test_fires_on_new_or_changed_scripts if {
	count(rule.alert) == 1 with input as object.union(update({"notebookInstanceLifecycleConfigName": "boot"}), {"eventName": "CreateNotebookInstanceLifecycleConfig"})
	count(rule.alert) == 1 with input as object.union(update({"notebookInstanceLifecycleConfigName": "boot"}), {"eventName": "UpdateNotebookInstanceLifecycleConfig"})
}

test_quiet_for_other_updates if {
	count(rule.alert) == 0 with input as update({"notebookInstanceName": "research", "instanceType": "ml.t3.large"})
	count(rule.alert) == 0 with input as update({"notebookInstanceName": "research", "disassociateLifecycleConfig": true})
	count(rule.alert) == 0 with input as update({"notebookInstanceName": "research", "lifecycleConfigName": ""})
}

test_quiet_for_failures if {
	count(rule.alert) == 0 with input as object.union(update({"notebookInstanceName": "r", "lifecycleConfigName": "boot"}), {"errorCode": "ValidationException"})
}
