package rules.threats.ec2_ssh_key_pushed_test

import rego.v1

import data.rules.threats.ec2_ssh_key_pushed as rule

# SendSSHPublicKey (EC2 Instance Connect API reference: InstanceId,
# InstanceOSUser, SSHPublicKey, AvailabilityZone).
send_key := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2-instance-connect.amazonaws.com",
	"eventName": "SendSSHPublicKey",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.94",
	"requestParameters": {"instanceId": "i-0abc", "instanceOSUser": "ec2-user", "sSHPublicKey": "ssh-ed25519 AAAAC3Nza"},
	"responseElements": {"success": true},
	"recipientAccountId": "111122223333",
}

test_fires_on_instance_connect if {
	alerts := rule.alert with input as send_key
	alerts == {{"message": `arn:aws:iam::111122223333:user/dev called ec2-instance-connect:SendSSHPublicKey (instanceId="i-0abc", instanceOSUser="ec2-user") in us-east-1 from 203.0.113.94`}}
}

test_fires_on_serial_console if {
	event := object.union(send_key, {"eventName": "SendSerialConsoleSSHPublicKey", "requestParameters": {"instanceId": "i-0abc", "serialPort": 0, "instanceOSUser": null}})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::111122223333:user/dev called ec2-instance-connect:SendSerialConsoleSSHPublicKey (instanceId="i-0abc", serialPort=0) in us-east-1 from 203.0.113.94`}}
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(send_key, {"errorCode": "AccessDeniedException"})
	count(rule.alert) == 0 with input as object.union(send_key, {"eventName": "OpenTunnel"})
	count(rule.alert) == 0 with input as object.union(send_key, {"eventSource": "ec2.amazonaws.com"})
}
