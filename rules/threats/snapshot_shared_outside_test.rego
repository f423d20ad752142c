package rules.threats.snapshot_shared_outside_test

import rego.v1

import data.rules.threats.snapshot_shared_outside as rule

base := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ops/x", "accountId": "111122223333"},
	"eventTime": "2025-03-01T10:00:00Z",
	"awsRegion": "eu-west-1",
	"sourceIPAddress": "203.0.113.90",
	"recipientAccountId": "111122223333",
}

# ModifySnapshotAttribute (EC2 API reference: SnapshotId, Attribute
# createVolumePermission, CreateVolumePermission.Add of UserId or Group all).
ebs(items) := object.union(base, {
	"eventSource": "ec2.amazonaws.com",
	"eventName": "ModifySnapshotAttribute",
	"requestParameters": {"snapshotId": "snap-0abc", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": items}}},
})

# ModifyImageAttribute (ImageId, LaunchPermission.Add).
ami(items) := object.union(base, {
	"eventSource": "ec2.amazonaws.com",
	"eventName": "ModifyImageAttribute",
	"requestParameters": {"imageId": "ami-0abc", "attributeType": "launchPermission", "launchPermission": {"add": {"items": items}}},
})

# ModifyDBSnapshotAttribute (RDS API reference: DBSnapshotIdentifier,
# AttributeName restore, ValuesToAdd).
rds(values) := object.union(base, {
	"eventSource": "rds.amazonaws.com",
	"eventName": "ModifyDBSnapshotAttribute",
	"requestParameters": {"dBSnapshotIdentifier": "prod-db-2025-03-01", "attributeName": "restore", "valuesToAdd": values},
})

test_fires_on_ebs_share if {
	alerts := rule.alert with input as ebs([{"userId": "999988887777"}])
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/ops/x shared EBS snapshot snap-0abc with account 999988887777 in eu-west-1 from 203.0.113.90"}}
}

test_fires_critical_on_public_ebs if {
	alerts := rule.alert with input as ebs([{"group": "all"}])
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/ops/x made EBS snapshot snap-0abc public in eu-west-1 from 203.0.113.90", "severity": "critical"}}
}

test_fires_on_ami_share if {
	alerts := rule.alert with input as ami([{"userId": "111122223333"}, {"userId": "999988887777"}])
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/ops/x shared AMI ami-0abc with account 999988887777 in eu-west-1 from 203.0.113.90"}}
	count(rule.alert) == 1 with input as ami([{"group": "all"}])
}

test_fires_on_rds_share if {
	alerts := rule.alert with input as rds(["999988887777"])
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/ops/x shared RDS snapshot prod-db-2025-03-01 with account 999988887777 in eu-west-1 from 203.0.113.90"}}
	public := rule.alert with input as rds(["all"])
	public == {{"message": "arn:aws:sts::111122223333:assumed-role/ops/x made RDS snapshot prod-db-2025-03-01 public in eu-west-1 from 203.0.113.90", "severity": "critical"}}
}

test_fires_on_rds_cluster_share if {
	event := object.union(base, {
		"eventSource": "rds.amazonaws.com",
		"eventName": "ModifyDBClusterSnapshotAttribute",
		"requestParameters": {"dBClusterSnapshotIdentifier": "aurora-snap", "attributeName": "restore", "valuesToAdd": ["999988887777"]},
	})
	alerts := rule.alert with input as event
	alerts == {{"message": "arn:aws:sts::111122223333:assumed-role/ops/x shared RDS snapshot aurora-snap with account 999988887777 in eu-west-1 from 203.0.113.90"}}
}

test_quiet_for_known_and_own_accounts if {
	count(rule.alert) == 0 with input as ebs([{"userId": "444455556666"}]) with data.known_accounts as ["444455556666"]
	count(rule.alert) == 0 with input as ami([{"userId": "111122223333"}])
	count(rule.alert) == 0 with input as rds(["444455556666"]) with data.known_accounts as ["444455556666", "555566667777"]
}

test_quiet_for_removals_and_other_attributes if {
	remove := json.patch(ebs([]), [{"op": "replace", "path": "/requestParameters/createVolumePermission", "value": {"remove": {"items": [{"group": "all"}]}}}])
	count(rule.alert) == 0 with input as remove
	count(rule.alert) == 0 with input as json.patch(rds(["all"]), [{"op": "replace", "path": "/requestParameters/attributeName", "value": "other"}])
	count(rule.alert) == 0 with input as json.patch(rds(["all"]), [{"op": "remove", "path": "/requestParameters/valuesToAdd"}])
	count(rule.alert) == 0 with input as object.union(ami([]), {"requestParameters": {"imageId": "ami-0abc", "description": {"value": "x"}}})
}

test_quiet_for_failures if {
	count(rule.alert) == 0 with input as object.union(ebs([{"group": "all"}]), {"errorCode": "Client.UnauthorizedOperation"})
}
