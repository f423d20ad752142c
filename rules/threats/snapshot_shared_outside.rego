# METADATA
# title: Snapshot or machine image shared outside the organisation
# description: >-
#   An EBS snapshot, an AMI, or an RDS database or cluster snapshot was
#   shared with an AWS account outside the organisation (not the account
#   itself, not in data.known_accounts), or made public. The other account
#   can then copy the disk or database into its own account and read it at
#   leisure: a whole volume or database leaves in one API call, and nothing
#   in this account records the reads. Severity high for another account;
#   critical when public, since anyone can then restore the data.
# custom:
#   id: threats.snapshot_shared_outside
#   severity: high
#   attack: [{tactic: TA0010, technique: T1537}]
#   tags: [exfiltration, ec2, ebs, ami, rds, T1537]
#   runbook: >-
#     Remove the permission at once (ModifySnapshotAttribute /
#     ModifyImageAttribute with remove, ModifyDBSnapshotAttribute with
#     valuesToRemove). Then find what the snapshot held and treat that data,
#     and any credentials in it, as disclosed.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyImageAttribute.html
#     - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html
#     - https://attack.mitre.org/techniques/T1537/
package rules.threats.snapshot_shared_outside

import rego.v1

import data.lib.cloudtrail

# EBS: createVolumePermission.add.items[] of {userId} or {group: "all"}.
alert contains result if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "ModifySnapshotAttribute"
	cloudtrail.succeeded(input)
	outside := cloudtrail.outside_accounts(input, _ec2_grantees(input.requestParameters.createVolumePermission))
	count(outside) > 0
	result := _alert("EBS snapshot", cloudtrail.request_param(input, "snapshotId"), outside)
}

# AMI: launchPermission.add.items[], the same shape.
alert contains result if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "ModifyImageAttribute"
	cloudtrail.succeeded(input)
	outside := cloudtrail.outside_accounts(input, _ec2_grantees(input.requestParameters.launchPermission))
	count(outside) > 0
	result := _alert("AMI", cloudtrail.request_param(input, "imageId"), outside)
}

# RDS: attributeName "restore" with valuesToAdd, account ids or "all".
alert contains result if {
	input.eventSource == "rds.amazonaws.com"
	input.eventName in {"ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"}
	input.requestParameters.attributeName == "restore"
	cloudtrail.succeeded(input)
	values := input.requestParameters.valuesToAdd
	is_array(values)
	outside := cloudtrail.outside_accounts(input, values)
	count(outside) > 0
	result := _alert("RDS snapshot", _rds_snapshot, outside)
}

_ec2_grantees(permission) := [g |
	some item in permission.add.items
	some key in ["userId", "group"]
	g := item[key]
]

_rds_snapshot := cloudtrail.request_param(input, "dBSnapshotIdentifier") if input.eventName == "ModifyDBSnapshotAttribute"

else := cloudtrail.request_param(input, "dBClusterSnapshotIdentifier")

_alert(kind, id, outside) := {"message": msg, "severity": "critical"} if {
	"*" in outside
	msg := sprintf("%s made %s %s public in %s from %s", [cloudtrail.principal(input), kind, id, cloudtrail.region(input), cloudtrail.source(input)])
} else := {"message": msg} if {
	msg := sprintf("%s shared %s %s with account %s in %s from %s", [
		cloudtrail.principal(input), kind, id, concat(", ", sort(outside)),
		cloudtrail.region(input), cloudtrail.source(input),
	])
}
