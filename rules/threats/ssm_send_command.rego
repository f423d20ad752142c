# METADATA
# title: Commands sent to instances with SSM Run Command
# description: >-
#   A person or program (not an AWS service acting on a schedule) ran
#   ssm:SendCommand, which executes a document, often an arbitrary shell or
#   PowerShell script, as root or SYSTEM on the instances it names. With it
#   a stolen access key becomes code execution inside the VPC, including
#   reading the instances' own role credentials. Severity medium: operators
#   and deployment tools use Run Command too, so one call is a question to
#   ask, not proof; many instances at once, or a principal that never did
#   this before, raise the stakes.
# custom:
#   id: threats.ssm_send_command
#   severity: medium
#   attack: [{tactic: TA0002, technique: T1651}]
#   tags: [execution, ssm, ec2, T1651]
#   runbook: >-
#     Look up the command (ListCommands / GetCommandInvocation with the
#     commandId in responseElements) and what it ran. If the principal's owner
#     did not run it, treat the instances as compromised: isolate them and
#     revoke their role sessions.
#   references:
#     - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
#     - https://hackingthe.cloud/aws/post_exploitation/run_shell_commands_on_ec2/
#     - https://attack.mitre.org/techniques/T1651/
package rules.threats.ssm_send_command

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ssm.amazonaws.com"
	input.eventName == "SendCommand"
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	msg := sprintf("%s ran SSM document %s on %s in %s from %s", [
		cloudtrail.principal(input),
		cloudtrail.request_param(input, "documentName"),
		_targets,
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

_targets := sprintf("%d instance(s): %s", [count(ids), concat(", ", ids)]) if {
	ids := [id | some id in input.requestParameters.instanceIds; is_string(id)]
	count(ids) > 0
} else := sprintf("the instances targeted by %s", [json.marshal(input.requestParameters.targets)]) if {
	input.requestParameters.targets
} else := "(unknown instances)"
