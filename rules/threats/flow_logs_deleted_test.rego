package rules.threats.flow_logs_deleted_test

import rego.v1

import data.rules.threats.flow_logs_deleted as rule

# DeleteFlowLogs (EC2 API reference: FlowLogId.N), as CloudTrail records EC2's
# query API: the request under DeleteFlowLogsRequest.
delete_flow_logs := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Admin/jo", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "DeleteFlowLogs",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "203.0.113.9",
	"requestParameters": {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0123456789abcdef0", "tag": 1}}},
	"responseElements": {"DeleteFlowLogsResponse": {"unsuccessful": ""}},
	"recipientAccountId": "111122223333",
}

test_fires_on_delete_flow_logs if {
	alerts := rule.alert with input as delete_flow_logs
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/Admin/jo deleted VPC flow logs fl-0123456789abcdef0 in us-west-2 from 203.0.113.9"}}
}

test_lists_every_flow_log if {
	event := json.patch(delete_flow_logs, [{"op": "replace", "path": "/requestParameters/DeleteFlowLogsRequest/FlowLogId", "value": [
		{"content": "fl-1", "tag": 1},
		{"content": "fl-2", "tag": 2},
	]}])
	alerts := rule.alert with input as event
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/Admin/jo deleted VPC flow logs fl-1, fl-2 in us-west-2 from 203.0.113.9"}}
}

test_fires_without_request_parameters if {
	alerts := rule.alert with input as object.union(delete_flow_logs, {"requestParameters": null})
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/Admin/jo deleted VPC flow logs (unknown) in us-west-2 from 203.0.113.9"}}
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(delete_flow_logs, {"errorCode": "Client.UnauthorizedOperation"})
	count(rule.alert) == 0 with input as object.union(delete_flow_logs, {"eventName": "CreateFlowLogs"})
	count(rule.alert) == 0 with input as object.union(delete_flow_logs, {"eventName": "DescribeFlowLogs"})
}
