# METADATA
# title: EC2 serial console access enabled for the account
# description: >-
#   Someone enabled EC2 serial console access for the account in a region.
#   The serial console reaches an instance's boot console without any
#   network path, so security groups, network ACLs and the lack of a public
#   address no longer keep anyone out who can push a key to it. It is off by
#   default and meant for break-glass troubleshooting. Severity medium: the
#   change is account-wide and rare, but on its own opens nothing until
#   someone uses it.
# custom:
#   id: threats.ec2_serial_console_enabled
#   severity: medium
#   attack: [{tactic: TA0008, technique: T1021}]
#   tags: [lateral-movement, defense-evasion, ec2, serial-console, T1021]
#   runbook: >-
#     Ask who needed it. Disable it again (DisableSerialConsoleAccess) once
#     the troubleshooting is done, and look for SendSerialConsoleSSHPublicKey
#     calls since it was enabled.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableSerialConsoleAccess.html
#     - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-serial-console.html
#     - https://attack.mitre.org/techniques/T1021/
package rules.threats.ec2_serial_console_enabled

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "EnableSerialConsoleAccess"
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, [])
}
