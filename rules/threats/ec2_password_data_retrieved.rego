# METADATA
# title: EC2 Windows password data requested
# description: >-
#   Someone called ec2:GetPasswordData, which returns a Windows instance's
#   administrator password encrypted with the instance's key pair. With the
#   private key (often lying next to the access key that was stolen) it
#   gives an RDP login as Administrator. Failed calls are reported too:
#   attackers sweep many instance ids and most are refused. Severity medium:
#   administrators use it to reach new Windows instances, but few do, and
#   rarely in bulk; one principal raising many of these alerts is the sign.
# custom:
#   id: threats.ec2_password_data_retrieved
#   severity: medium
#   attack: [{tactic: TA0006, technique: T1552}]
#   tags: [credential-access, ec2, windows, T1552]
#   runbook: >-
#     Ask the principal's owner whether they were connecting to that
#     instance. Many calls over different instances, or refused calls, point
#     to a sweep: disable the credentials and rotate the administrator
#     passwords of the instances it reached.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetPasswordData.html
#     - https://attack.mitre.org/techniques/T1552/
package rules.threats.ec2_password_data_retrieved

import rego.v1

import data.lib.cloudtrail

# Attempts count: the call is read-only and refused calls are how a sweep
# over guessed instance ids shows up.
alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "GetPasswordData"
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["instanceId"])
}
