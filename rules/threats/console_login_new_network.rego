# METADATA
# title: Console sign-in from a network new for the user
# description: >-
#   A user signed in to the console from a network (IPv4 /24, IPv6 /48) none
#   of their sign-ins of the last 90 days came from. The first 7 days of
#   each user's sign-ins (event time) are learned silently, so a new
#   deployment does not alert on everyone; a network unused for 90 days is
#   new again. Stolen passwords and session cookies are used from the
#   intruder's network, not the victim's office or VPN. Only successful
#   sign-ins are learned and judged (aws.console_login_failure watches the
#   others). Severity low: travel and a new home router do the same, so it
#   is context for other alerts on the same user more than an alarm.
# custom:
#   id: threats.console_login_new_network
#   severity: low
#   attack: [{tactic: TA0001, technique: T1078.004}]
#   tags: [initial-access, console, signin, stateful, T1078.004]
#   new_value:
#     fields: [network]
#     group_by: [principal]
#     learn: 7d
#     forget: 90d
#   runbook: >-
#     Ask the user whether they signed in from that network (the alert lists
#     the networks they used before). If not, reset their password and MFA,
#     revoke their sessions and review what the session did.
#   references:
#     - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
#     - https://attack.mitre.org/techniques/T1078/004/
package rules.threats.console_login_new_network

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg, "network": network} if {
	input.eventSource == "signin.amazonaws.com"
	input.eventName == "ConsoleLogin"
	input.responseElements.ConsoleLogin == "Success"
	network := cloudtrail.network(input.sourceIPAddress)
	msg := sprintf("%s signed in to the console from %s (%s)", [
		cloudtrail.principal(input),
		input.sourceIPAddress,
		network,
	])
}
