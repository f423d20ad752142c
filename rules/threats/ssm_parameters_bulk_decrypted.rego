# METADATA
# title: SSM parameters decrypted in bulk
# description: >-
#   Someone decrypted SecureString parameters in bulk: GetParameters with
#   decryption for ten names (the most one call takes), or
#   GetParametersByPath with decryption over the whole tree ("/",
#   recursively). Applications read the few parameters of their own path;
#   ten at once or everything from the root is a sweep for credentials.
#   Severity medium: a configuration tool can do the same, but the values are
#   secrets and the pattern is that of the technique.
# custom:
#   id: threats.ssm_parameters_bulk_decrypted
#   severity: medium
#   attack: [{tactic: TA0006, technique: T1555.006}]
#   tags: [credential-access, ssm, parameter-store, T1555.006]
#   runbook: >-
#     Check which parameters were read and whether the principal needs them.
#     If not, rotate the secrets they hold and disable the principal's
#     credentials.
#   references:
#     - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
#     - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
#     - https://attack.mitre.org/techniques/T1555/006/
package rules.threats.ssm_parameters_bulk_decrypted

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "ssm.amazonaws.com"
	input.eventName == "GetParameters"
	input.requestParameters.withDecryption == true
	names := input.requestParameters.names
	is_array(names)
	count(names) >= 10
	not cloudtrail.by_aws_service(input)
	msg := sprintf("%s decrypted %d SSM parameters in one GetParameters call in %s from %s%s", [
		cloudtrail.principal(input),
		count(names),
		cloudtrail.region(input),
		cloudtrail.source(input),
		cloudtrail.outcome(input),
	])
}

alert contains {"message": msg} if {
	input.eventSource == "ssm.amazonaws.com"
	input.eventName == "GetParametersByPath"
	input.requestParameters.withDecryption == true
	input.requestParameters.recursive == true
	input.requestParameters.path == "/"
	not cloudtrail.by_aws_service(input)
	msg := cloudtrail.describe_call(input, ["path", "recursive", "withDecryption"])
}
