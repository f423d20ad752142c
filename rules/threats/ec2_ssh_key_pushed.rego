# METADATA
# title: SSH key pushed to an instance through EC2 Instance Connect
# description: >-
#   Someone pushed an SSH public key to an instance with EC2 Instance
#   Connect (SendSSHPublicKey) or to its serial console
#   (SendSerialConsoleSSHPublicKey). For 60 seconds the matching private key
#   opens a shell on the instance as the named OS user, with no key pair,
#   and through the serial console even with no network path at all. It
#   turns an access key into a login on every instance it can reach.
#   Severity medium: it is also how the console's "Connect" button works, so
#   people use it; the same principal reaching many instances, or the serial
#   console, is the sign to act on.
# custom:
#   id: threats.ec2_ssh_key_pushed
#   severity: medium
#   attack:
#     - {tactic: TA0008, technique: T1021.004}
#     - {tactic: TA0003, technique: T1098.004}
#   tags: [lateral-movement, ec2, ec2-instance-connect, ssh, T1021.004]
#   runbook: >-
#     Ask the principal's owner. Check the instance's SSH and serial console
#     logs for the session that followed and what it ran; if nobody owns it,
#     isolate the instance and revoke the principal's credentials.
#   references:
#     - https://docs.aws.amazon.com/ec2-instance-connect/latest/APIReference/API_SendSSHPublicKey.html
#     - https://docs.aws.amazon.com/ec2-instance-connect/latest/APIReference/API_SendSerialConsoleSSHPublicKey.html
#     - https://unit42.paloaltonetworks.com/cloud-lateral-movement-techniques/
#     - https://attack.mitre.org/techniques/T1021/004/
package rules.threats.ec2_ssh_key_pushed

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ec2-instance-connect.amazonaws.com"
	input.eventName in {"SendSSHPublicKey", "SendSerialConsoleSSHPublicKey"}
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["instanceId", "instanceOSUser", "serialPort"])
}
