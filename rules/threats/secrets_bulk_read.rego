# METADATA
# title: Many secrets read by one principal
# description: >-
#   One principal read the values of 10 or more distinct secrets within 10
#   minutes (event time): Secrets Manager GetSecretValue or
#   BatchGetSecretValue by id, or SSM GetParameter(s) with decryption. A
#   service reads the few secrets it was written for, once at start and then
#   from its cache, and a deployment reads them through CloudFormation (left
#   out here as a call an AWS service made); sweeping through ten or more
#   different ones in minutes is how an intruder with stolen credentials
#   empties the store (a published detonation of this technique reads 20 in four
#   seconds). Ten, not the 20 an intruder can read in one batch,
#   because a batch by id counts once (its list of ids is one value); ten
#   minutes because a dump takes seconds and a slow, scripted one still fits.
#   Only calls that returned a value count; refused ones feed
#   threats.denied_calls_burst. Severity medium: the values are credentials,
#   but a migration or an operator's audit can do the same.
# custom:
#   id: threats.secrets_bulk_read
#   severity: medium
#   attack: [{tactic: TA0006, technique: T1555.006}]
#   tags: [credential-access, secretsmanager, ssm, stateful, T1555.006]
#   message: "{{.who}} read {{.secret}} with {{.action}} in {{.where}} from {{.from}}"
#   threshold:
#     count: 10
#     window: 10m
#     group_by: [principal]
#     distinct: secret
#   runbook: >-
#     List the secrets in the alert's events and ask the principal's owner
#     why it read them. If nobody can say, rotate every one and disable the
#     principal's credentials.
#   references:
#     - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
#     - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
#     - https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-retrieve-secrets/
#     - https://attack.mitre.org/techniques/T1555/006/
package rules.threats.secrets_bulk_read

import rego.v1

import data.lib.cloudtrail

# One candidate per secret read; the threshold counts distinct "secret"
# values per principal. Each body starts with the call's name so that the
# engine's index skips the rule for every other event, and reads the
# secret's name last: the engine remembers a rule's answer by the values it
# read, in the order it read them (engine/memo.go), and with the values that
# repeat (outcome, caller) read first, every secret shares those steps and
# costs its memo one branch, not six.
alert contains _candidate(id) if {
	input.eventName == "GetSecretValue"
	input.eventSource == "secretsmanager.amazonaws.com"
	_counted
	id := input.requestParameters.secretId
	is_string(id)
}

# A batch by id is one value: the engine keeps one candidate per event.
alert contains _candidate(concat(",", sort(ids))) if {
	input.eventName == "BatchGetSecretValue"
	input.eventSource == "secretsmanager.amazonaws.com"
	ids := input.requestParameters.secretIdList
	is_array(ids)
	count(ids) > 0
	every id in ids { is_string(id) }
	_counted
}

alert contains _candidate(name) if {
	input.eventName == "GetParameter"
	input.eventSource == "ssm.amazonaws.com"
	input.requestParameters.withDecryption == true
	_counted
	name := input.requestParameters.name
	is_string(name)
}

alert contains _candidate(concat(",", sort(names))) if {
	input.eventName == "GetParameters"
	input.eventSource == "ssm.amazonaws.com"
	input.requestParameters.withDecryption == true
	names := input.requestParameters.names
	is_array(names)
	count(names) > 0
	every n in names { is_string(n) }
	_counted
}

# Only values handed to a caller count, and not those an AWS service read.
_counted if {
	cloudtrail.succeeded(input)
	not cloudtrail.by_aws_service(input)
}

# The message is custom.message, rendered by the engine: applications read
# secrets all the time, and building the sentence here was half the cost of
# each read.
_candidate(secret) := {"secret": secret}
