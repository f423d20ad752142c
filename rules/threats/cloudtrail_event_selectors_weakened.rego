# METADATA
# title: CloudTrail event selectors stop recording management events
# description: >-
#   Someone set a trail's event selectors so that it no longer records every
#   management event: includeManagementEvents false, read-only or write-only
#   recording, or advanced selectors without the plain Management category.
#   The trail keeps running and StopLogging is never called, so this blinds
#   monitoring more quietly than stopping the trail. Severity high: it is the
#   same outcome as aws.cloudtrail_change's StopLogging, with less noise to
#   give it away, and legitimate changes of this kind are rare and planned.
# custom:
#   id: threats.cloudtrail_event_selectors_weakened
#   severity: high
#   attack: [{tactic: TA0005, technique: T1562.008}]
#   tags: [defense-evasion, cloudtrail, T1562.008]
#   runbook: >-
#     Read the selectors in requestParameters and restore management events
#     (readWriteType All, includeManagementEvents true) if nobody planned the
#     change. Everything the principal did afterwards may be missing from the
#     trail: look in other trails, CloudTrail event history (90 days of
#     management events regardless of selectors) and GuardDuty.
#   references:
#     - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
#     - https://github.com/RhinoSecurityLabs/Cloud-Security-Research/tree/master/AWS/cloudtrail_guardduty_bypass
#     - https://attack.mitre.org/techniques/T1562/008/
package rules.threats.cloudtrail_event_selectors_weakened

import rego.v1

import data.lib.cloudtrail

# Basic selectors: management events are recorded in full only by a selector
# with includeManagementEvents true (the API's default) and readWriteType All
# (also the default).
alert contains {"message": msg} if {
	input.eventSource == "cloudtrail.amazonaws.com"
	input.eventName == "PutEventSelectors"
	cloudtrail.succeeded(input)
	selectors := input.requestParameters.eventSelectors
	is_array(selectors)
	not _records_all_management(selectors)
	msg := sprintf("%s: the trail no longer records all management events", [cloudtrail.describe_call(input, ["trailName"])])
}

# Advanced selectors: a selector whose only field selector is eventCategory
# equals Management records every management event; anything narrower
# (readOnly, eventSource, NotEquals) leaves some out.
alert contains {"message": msg} if {
	input.eventSource == "cloudtrail.amazonaws.com"
	input.eventName == "PutEventSelectors"
	cloudtrail.succeeded(input)
	selectors := input.requestParameters.advancedEventSelectors
	is_array(selectors)
	not _advanced_records_all_management(selectors)
	msg := sprintf("%s: the trail's advanced selectors no longer record all management events", [cloudtrail.describe_call(input, ["trailName"])])
}

_records_all_management(selectors) if {
	some s in selectors
	is_object(s)
	object.get(s, "includeManagementEvents", true) == true
	object.get(s, "readWriteType", "All") == "All"
	count(object.get(s, "excludeManagementEventSources", [])) == 0
}

_advanced_records_all_management(selectors) if {
	some s in selectors
	fields := s.fieldSelectors
	count(fields) == 1
	fields[0].field == "eventCategory"
	fields[0].equals == ["Management"]
}
