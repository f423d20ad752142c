package rules.aws.unauthorized_api_call_test

import rego.v1

import data.rules.aws.unauthorized_api_call as rule

# invictus-ir/aws_dataset: a refused AssumeRole from a Stratus Red Team run,
# trimmed (samples/invictus-ir_aws_dataset).
assume_role_denied := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "IAMUser",
		"principalId": "AIDATFQR7NSC5AU2ZV3IE",
		"arn": "arn:aws:iam::123837392027:user/bert-jan",
		"accountId": "123837392027",
		"accessKeyId": "AKIATFQR7NSC8Q4X20BJ",
		"userName": "bert-jan",
	},
	"eventTime": "2023-07-10T11:54:42Z",
	"eventSource": "sts.amazonaws.com",
	"eventName": "AssumeRole",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"userAgent": "stratus-red-team_39f95f43-cd2f-4beb-b69e-be60b6fe1f57",
	"errorCode": "AccessDenied",
	"errorMessage": "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role",
	"requestParameters": null,
	"responseElements": null,
	"readOnly": true,
	"eventType": "AwsApiCall",
	"recipientAccountId": "123837392027",
}

# invictus-ir/aws_dataset: EC2 says Client.UnauthorizedOperation, here from an
# assumed-role session, trimmed.
get_password_data_denied := {
	"eventVersion": "1.08",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "AROATFQR7NSCWWVLB7BES:aws-go-sdk-1688990082523310002",
		"arn": "arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1688990082523310002",
		"accountId": "123837392027",
		"sessionContext": {"attributes": {"creationDate": "2023-07-10T11:54:47Z", "mfaAuthenticated": "false"}},
	},
	"eventTime": "2023-07-10T11:54:48Z",
	"eventSource": "ec2.amazonaws.com",
	"eventName": "GetPasswordData",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "192.168.10.20",
	"errorCode": "Client.UnauthorizedOperation",
	"errorMessage": "You are not authorized to perform this operation.",
	"requestParameters": {"instanceId": "i-0a1b2c3d4e5f60718"},
	"responseElements": null,
	"eventType": "AwsApiCall",
}

test_fires_on_access_denied if {
	alerts := rule.alert with input as assume_role_denied
	alerts == {{"message": "arn:aws:iam::123837392027:user/bert-jan called sts:AssumeRole in us-east-1 from 192.168.10.20; the call failed with AccessDenied"}}
}

test_fires_on_unauthorized_operation if {
	alerts := rule.alert with input as get_password_data_denied
	alerts == {{"message": "arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1688990082523310002 called ec2:GetPasswordData in us-east-1 from 192.168.10.20; the call failed with Client.UnauthorizedOperation"}}
}

test_fires_on_access_denied_exception if {
	count(rule.alert) == 1 with input as object.union(assume_role_denied, {"errorCode": "AccessDeniedException"})
}

test_quiet_on_success if {
	count(rule.alert) == 0 with input as object.remove(assume_role_denied, ["errorCode", "errorMessage"])
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"errorCode": null})
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"errorCode": ""})
}

# invictus-ir/aws_dataset has ThrottlingException and NoSuch* errors: not refusals.
test_quiet_on_other_errors if {
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"errorCode": "ThrottlingException"})
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"errorCode": "NoSuchBucketPolicy"})
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"errorCode": "TrailNotFoundException"})
}

test_quiet_for_log_delivery if {
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"sourceIPAddress": "delivery.logs.amazonaws.com"})
}

test_quiet_for_head_bucket if {
	count(rule.alert) == 0 with input as object.union(assume_role_denied, {"eventSource": "s3.amazonaws.com", "eventName": "HeadBucket"})
}
