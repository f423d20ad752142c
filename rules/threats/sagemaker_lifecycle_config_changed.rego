# METADATA
# title: SageMaker notebook lifecycle script changed
# description: >-
#   Someone attached a lifecycle configuration to a SageMaker notebook
#   instance, or created or changed one. Its scripts run as root on the
#   notebook at every start, with the notebook's execution role, which is
#   often powerful: stop, attach, start is a way from a few SageMaker
#   permissions to that role. Severity medium: data science teams change
#   these legitimately, but seldom.
# custom:
#   id: threats.sagemaker_lifecycle_config_changed
#   severity: medium
#   attack: [{tactic: TA0002, technique: T1651}]
#   tags: [execution, privilege-escalation, sagemaker, T1651]
#   runbook: >-
#     Read the lifecycle configuration's scripts (DescribeNotebookInstanceLifecycleConfig)
#     and confirm them with the notebook's owner. Detach anything unexpected
#     and review what the execution role did since the notebook last started.
#   references:
#     - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateNotebookInstance.html
#     - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateNotebookInstanceLifecycleConfig.html
#     - https://www.plerion.com/blog/privilege-escalation-with-sagemaker-and-execution-roles
#     - https://attack.mitre.org/techniques/T1651/
package rules.threats.sagemaker_lifecycle_config_changed

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "sagemaker.amazonaws.com"
	input.eventName == "UpdateNotebookInstance"
	name := input.requestParameters.lifecycleConfigName
	is_string(name)
	name != ""
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["notebookInstanceName", "lifecycleConfigName"])
}

alert contains {"message": msg} if {
	input.eventSource == "sagemaker.amazonaws.com"
	input.eventName in {"CreateNotebookInstanceLifecycleConfig", "UpdateNotebookInstanceLifecycleConfig"}
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["notebookInstanceLifecycleConfigName"])
}
