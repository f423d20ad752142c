# METADATA
# title: VPC flow logs deleted
# description: >-
#   Someone deleted VPC flow logs, the record of which addresses talked to
#   which over the network. Attackers remove them before moving data or
#   opening connections they do not want traced. Severity medium: tearing down
#   a VPC removes its flow logs too, so this happens in ordinary clean-ups,
#   but a deletion outside one deserves a look.
# custom:
#   id: threats.flow_logs_deleted
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1562.008}]
#   tags: [defense-evasion, ec2, vpc, logging, T1562.008]
#   runbook: >-
#     Check whether the VPC, subnet or interface the flow log covered was
#     deleted at the same time (DeleteVpc, DeleteSubnet). If not, recreate the
#     flow log and review the principal's other calls.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteFlowLogs.html
#     - https://attack.mitre.org/techniques/T1562/008/
package rules.threats.flow_logs_deleted

import rego.v1

import data.lib.cloudtrail

# EC2 writes the request as XML turned into JSON: the ids are under
# DeleteFlowLogsRequest.FlowLogId, one object or a list of them.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "DeleteFlowLogs"
	cloudtrail.succeeded(input)
	msg := sprintf("%s deleted VPC flow logs %s in %s from %s", [
		cloudtrail.principal(input),
		_ids,
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

_ids := concat(", ", ids) if {
	ids := [id |
		some item in _as_list(input.requestParameters.DeleteFlowLogsRequest.FlowLogId)
		id := _id(item)
	]
	count(ids) > 0
} else := "(unknown)"

_as_list(v) := v if is_array(v)

else := [v]

_id(item) := item.content if is_string(item.content)

else := item if is_string(item)
