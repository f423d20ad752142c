# METADATA
# title: GuardDuty detector disabled, deleted or detached
# description: >-
#   Someone deleted or suspended a GuardDuty detector, or detached the
#   account from its GuardDuty administrator account. GuardDuty is AWS's own
#   threat detection; switching it off is a classic first step after a
#   compromise. Severity high: its only effect is to stop detection, and it is
#   rarely done outside a planned migration.
# custom:
#   id: threats.guardduty_disabled
#   severity: high
#   attack: [{tactic: TA0005, technique: T1562.001}]
#   tags: [defense-evasion, guardduty, T1562.001]
#   runbook: >-
#     Re-enable the detector (or re-accept the administrator's invitation) and
#     review the principal's activity: what GuardDuty would have reported
#     since is not in its findings.
#   references:
#     - https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DeleteDetector.html
#     - https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UpdateDetector.html
#     - https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DisassociateFromAdministratorAccount.html
#     - https://attack.mitre.org/techniques/T1562/001/
package rules.threats.guardduty_disabled

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "guardduty.amazonaws.com"
	input.eventName in {"DeleteDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount"}
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["detectorId"])
}

# UpdateDetector with enable false suspends the detector.
alert contains {"message": msg} if {
	input.eventSource == "guardduty.amazonaws.com"
	input.eventName == "UpdateDetector"
	input.requestParameters.enable == false
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["detectorId", "enable"])
}
