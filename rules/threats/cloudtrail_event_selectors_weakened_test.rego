package rules.threats.cloudtrail_event_selectors_weakened_test

import rego.v1

import data.rules.threats.cloudtrail_event_selectors_weakened as rule

# A PutEventSelectors call as the CloudTrail API reference describes it:
# trailName and eventSelectors (ReadWriteType, IncludeManagementEvents,
# DataResources, ExcludeManagementEventSources), written by CloudTrail in
# camelCase.
put(selectors) := {
	"eventVersion": "1.10",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ops", "accountId": "111122223333", "userName": "ops"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "cloudtrail.amazonaws.com",
	"eventName": "PutEventSelectors",
	"awsRegion": "eu-west-1",
	"sourceIPAddress": "198.51.100.4",
	"requestParameters": {"trailName": "org-trail", "eventSelectors": selectors},
	"recipientAccountId": "111122223333",
}

put_advanced(selectors) := json.patch(put([]), [
	{"op": "remove", "path": "/requestParameters/eventSelectors"},
	{"op": "add", "path": "/requestParameters/advancedEventSelectors", "value": selectors},
])

test_fires_when_management_events_are_excluded if {
	alerts := rule.alert with input as put([{"readWriteType": "All", "includeManagementEvents": false, "dataResources": [{"type": "AWS::S3::Object", "values": []}]}])
	alerts == {{"message": `arn:aws:iam::111122223333:user/ops called cloudtrail:PutEventSelectors (trailName="org-trail") in eu-west-1 from 198.51.100.4: the trail no longer records all management events`}}
}

test_fires_for_read_only_or_write_only if {
	count(rule.alert) == 1 with input as put([{"readWriteType": "ReadOnly", "includeManagementEvents": true}])
	count(rule.alert) == 1 with input as put([{"readWriteType": "WriteOnly"}])
}

test_fires_for_excluded_event_sources if {
	count(rule.alert) == 1 with input as put([{"readWriteType": "All", "includeManagementEvents": true, "excludeManagementEventSources": ["kms.amazonaws.com"]}])
}

test_fires_for_no_selectors if {
	count(rule.alert) == 1 with input as put([])
}

test_fires_for_narrow_advanced_selectors if {
	count(rule.alert) == 1 with input as put_advanced([{"name": "data only", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}])
	count(rule.alert) == 1 with input as put_advanced([{"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["true"]}]}])
}

test_quiet_when_all_management_events_stay if {
	count(rule.alert) == 0 with input as put([{"readWriteType": "All", "includeManagementEvents": true}])
	count(rule.alert) == 0 with input as put([{}])
	count(rule.alert) == 0 with input as put([
		{"readWriteType": "All", "includeManagementEvents": true},
		{"readWriteType": "All", "includeManagementEvents": false, "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::logs/"]}]},
	])
	count(rule.alert) == 0 with input as put_advanced([
		{"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
		{"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]},
	])
}

test_quiet_for_failed_calls_and_other_events if {
	count(rule.alert) == 0 with input as object.union(put([]), {"errorCode": "TrailNotFoundException"})
	count(rule.alert) == 0 with input as object.union(put([]), {"eventName": "GetEventSelectors"})
	count(rule.alert) == 0 with input as object.union(put([]), {"eventSource": "s3.amazonaws.com"})
}

test_survives_odd_shapes if {
	count(rule.alert) == 0 with input as object.union(put([]), {"requestParameters": null})
	count(rule.alert) == 0 with input as object.union(put([]), {"requestParameters": {"eventSelectors": "x"}})
	count(rule.alert) == 1 with input as put(["odd"])
}
