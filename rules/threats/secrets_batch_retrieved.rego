# METADATA
# title: Secrets Manager secrets read in bulk by filter
# description: >-
#   Someone called secretsmanager:BatchGetSecretValue with filters instead of
#   a list of secret ids: "every secret with this tag, name or description",
#   up to 20 values per call. Applications know which secrets they need and
#   name them; selecting secrets by filter is how an intruder dumps them
#   without one GetSecretValue per secret. Severity medium: the values are
#   credentials, but a filter can also be an operator's legitimate one-off.
# custom:
#   id: threats.secrets_batch_retrieved
#   severity: medium
#   attack: [{tactic: TA0006, technique: T1555.006}]
#   tags: [credential-access, secretsmanager, T1555.006]
#   runbook: >-
#     Read the filters in requestParameters and list the secrets they match.
#     If the principal had no reason to read them, rotate every one and
#     disable the principal's credentials.
#   references:
#     - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
#     - https://permiso.io/blog/lucr-3-scattered-spider-getting-saas-y-in-the-cloud
#     - https://attack.mitre.org/techniques/T1555/006/
package rules.threats.secrets_batch_retrieved

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "secretsmanager.amazonaws.com"
	input.eventName == "BatchGetSecretValue"
	filters := input.requestParameters.filters
	is_array(filters)
	count(filters) > 0
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["filters"])
}
