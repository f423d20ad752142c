package rules.threats.ec2_gpu_instances_launched_test

import rego.v1

import data.rules.threats.ec2_gpu_instances_launched as rule

# RunInstances (EC2 API reference: InstanceType, ImageId, MinCount,
# MaxCount), as CloudTrail records it: counts under instancesSet.items.
run(type) := {
	"eventVersion": "1.09",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/leaked", "accountId": "111122223333", "userName": "leaked"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "RunInstances",
	"awsRegion": "sa-east-1",
	"sourceIPAddress": "192.0.2.200",
	"requestParameters": {
		"instanceType": type,
		"instancesSet": {"items": [{"imageId": "ami-0abc", "minCount": 1, "maxCount": 20}]},
	},
	"responseElements": null,
	"recipientAccountId": "111122223333",
}

test_fires_on_gpu_instances if {
	alerts := rule.alert with input as run("p3.16xlarge")
	alerts == {{"message": "arn:aws:iam::111122223333:user/leaked launched up to 20 p3.16xlarge instance(s) in sa-east-1 from 192.0.2.200"}}
}

test_fires_on_every_accelerated_family if {
	every type in ["p2.xlarge", "p4d.24xlarge", "p5e.48xlarge", "g4dn.xlarge", "g5g.2xlarge", "g6e.xlarge", "gr6.4xlarge", "inf2.xlarge", "trn1n.32xlarge", "dl1.24xlarge", "f1.2xlarge", "vt1.3xlarge"] {
		count(rule.alert) == 1 with input as run(type)
	}
}

test_fires_on_refused_attempts if {
	alerts := rule.alert with input as object.union(run("g5.48xlarge"), {"errorCode": "VcpuLimitExceeded"})
	alerts == {{"message": "arn:aws:iam::111122223333:user/leaked launched up to 20 g5.48xlarge instance(s) in sa-east-1 from 192.0.2.200; the call failed with VcpuLimitExceeded"}}
}

test_quiet_for_general_purpose_types if {
	every type in ["t3.micro", "m5.large", "c7g.xlarge", "t4g.nano", "r6g.large", "m6gd.large", "x2gd.large", "gp.large"] {
		count(rule.alert) == 0 with input as run(type)
	}
}

test_quiet_without_type_or_for_services if {
	count(rule.alert) == 0 with input as json.patch(run("p3.2xlarge"), [{"op": "remove", "path": "/requestParameters/instanceType"}])
	count(rule.alert) == 0 with input as json.patch(run("p3.2xlarge"), [{"op": "add", "path": "/userIdentity/invokedBy", "value": "autoscaling.amazonaws.com"}])
}

test_message_without_counts if {
	alerts := rule.alert with input as json.patch(run("p3.2xlarge"), [{"op": "remove", "path": "/requestParameters/instancesSet"}])
	alerts == {{"message": "arn:aws:iam::111122223333:user/leaked launched up to ? p3.2xlarge instance(s) in sa-east-1 from 192.0.2.200"}}
}
