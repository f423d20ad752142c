package rules.threats.guardduty_disabled_test

import rego.v1

import data.rules.threats.guardduty_disabled as rule

# GuardDuty API reference: DeleteDetector takes the detectorId in the path,
# UpdateDetector takes detectorId and enable.
delete_detector := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333", "userName": "mallory"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "guardduty.amazonaws.com",
	"eventName": "DeleteDetector",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "203.0.113.50",
	"requestParameters": {"detectorId": "12abc34d567e8fa901bc2d34e56789f0"},
	"responseElements": null,
	"recipientAccountId": "111122223333",
}

update(enable) := object.union(delete_detector, {
	"eventName": "UpdateDetector",
	"requestParameters": {"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "enable": enable},
})

test_fires_on_delete if {
	alerts := rule.alert with input as delete_detector
	alerts == {{"message": `arn:aws:iam::111122223333:user/mallory called guardduty:DeleteDetector (detectorId="12abc34d567e8fa901bc2d34e56789f0") in us-east-1 from 203.0.113.50`}}
}

test_fires_on_detach_from_administrator if {
	count(rule.alert) == 1 with input as object.union(delete_detector, {"eventName": "DisassociateFromAdministratorAccount"})
	count(rule.alert) == 1 with input as object.union(delete_detector, {"eventName": "DisassociateFromMasterAccount"})
}

test_fires_on_suspend if {
	alerts := rule.alert with input as update(false)
	alerts == {{"message": `arn:aws:iam::111122223333:user/mallory called guardduty:UpdateDetector (detectorId="12abc34d567e8fa901bc2d34e56789f0", enable=false) in us-east-1 from 203.0.113.50`}}
}

test_quiet_for_enable_and_other_updates if {
	count(rule.alert) == 0 with input as update(true)
	count(rule.alert) == 0 with input as update("false")
	count(rule.alert) == 0 with input as object.union(delete_detector, {"eventName": "UpdateDetector", "requestParameters": {"detectorId": "x", "findingPublishingFrequency": "SIX_HOURS"}})
}

test_quiet_for_failures if {
	count(rule.alert) == 0 with input as object.union(delete_detector, {"errorCode": "AccessDeniedException"})
}
