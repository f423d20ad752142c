# METADATA
# title: Burst of refused calls by one principal
# description: >-
#   One principal had 10 or more different API actions refused for lack of
#   permission within 10 minutes (event time). aws.unauthorized_api_call (CIS
#   4.1) reports every refusal on its own, and one refusal is usually a
#   mistake; ten different actions refused in minutes is somebody finding out
#   what a set of credentials can do (permission enumeration with stolen
#   keys, whatever runs it). Different actions, not calls: automation with the wrong role
#   retries one call and would otherwise look the same. Console sessions are
#   left out, since a console page probes the optional permissions of every
#   panel it draws. The refusals are those of CIS 4.1, with its exclusions.
# custom:
#   id: threats.denied_calls_burst
#   severity: medium
#   attack: [{tactic: TA0007, technique: T1580}, {tactic: TA0007, technique: T1526}]
#   tags: [discovery, iam, stateful, T1580, T1526]
#   message: "{{.call}}"
#   threshold:
#     count: 10
#     window: 10m
#     group_by: [principal]
#     distinct: action
#   runbook: >-
#     Read the refused actions in the alert's events: a sweep across services
#     is discovery. Check where the calls came from and whether the principal's
#     owner ran a tool; if not, disable its credentials and review what its
#     allowed calls did.
#   references:
#     - https://github.com/andresriancho/enumerate-iam
#     - https://attack.mitre.org/techniques/T1580/
#     - https://attack.mitre.org/techniques/T1526/
package rules.threats.denied_calls_burst

import rego.v1

import data.lib.cloudtrail

# The message is custom.message (describe_call's sentence), rendered by the
# engine for each candidate: refused calls come in bursts, and building the
# sentence here was half the cost of each.
alert contains {"action": cloudtrail.action(input)} if {
	input.errorCode
	cloudtrail.denied(input)
	not input.sourceIPAddress == "delivery.logs.amazonaws.com"
	not input.eventName == "HeadBucket"
	not input.sessionCredentialFromConsole == "true"
}
