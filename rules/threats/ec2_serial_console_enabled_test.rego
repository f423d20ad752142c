package rules.threats.ec2_serial_console_enabled_test

import rego.v1

import data.rules.threats.ec2_serial_console_enabled as rule

# EnableSerialConsoleAccess (EC2 API reference: no parameters but DryRun).
enable := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/x", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "EnableSerialConsoleAccess",
	"awsRegion": "ca-central-1",
	"sourceIPAddress": "203.0.113.95",
	"requestParameters": {"EnableSerialConsoleAccessRequest": ""},
	"responseElements": {"EnableSerialConsoleAccessResponse": {"serialConsoleAccessEnabled": true}},
	"recipientAccountId": "111122223333",
}

test_fires_on_enable if {
	alerts := rule.alert with input as enable
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/admin/x called ec2:EnableSerialConsoleAccess in ca-central-1 from 203.0.113.95"}}
}

test_quiet_for_disable_reads_and_failures if {
	count(rule.alert) == 0 with input as object.union(enable, {"eventName": "DisableSerialConsoleAccess"})
	count(rule.alert) == 0 with input as object.union(enable, {"eventName": "GetSerialConsoleAccessStatus"})
	count(rule.alert) == 0 with input as object.union(enable, {"errorCode": "Client.UnauthorizedOperation"})
}
