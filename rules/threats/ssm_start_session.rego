# METADATA
# title: Interactive SSM session started on an instance
# description: >-
#   Someone opened a Session Manager session (ssm:StartSession): an
#   interactive shell, or a port forward, on an instance, with no SSH key
#   and no open port needed. It is how administrators reach private
#   instances and how intruders with an access key reach them too. Severity
#   medium: routine for some teams, but every session is a human inside a
#   machine, and a principal that does not usually do this is worth a look.
# custom:
#   id: threats.ssm_start_session
#   severity: medium
#   attack: [{tactic: TA0002, technique: T1651}]
#   tags: [execution, lateral-movement, ssm, ec2, T1651]
#   runbook: >-
#     Ask the principal's owner about the session. Session Manager can log the
#     session's input and output to S3 or CloudWatch Logs: read it. If nobody
#     owns the session, terminate it (TerminateSession) and revoke the
#     principal's credentials.
#   references:
#     - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartSession.html
#     - https://hackingthe.cloud/aws/post_exploitation/run_shell_commands_on_ec2/#session-manager
#     - https://attack.mitre.org/techniques/T1651/
package rules.threats.ssm_start_session

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ssm.amazonaws.com"
	input.eventName == "StartSession"
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["target", "documentName"])
}
