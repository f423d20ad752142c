# METADATA
# title: GPU or accelerator EC2 instances launched
# description: >-
#   Someone launched, or tried to launch, instances of a GPU or machine
#   learning accelerator family (p, g, inf, trn, dl, f, vt). These are what
#   cryptocurrency miners and stolen-model hosts want, they cost tens of
#   dollars an hour each, and attackers ask for many at once; refused
#   attempts (permissions, vCPU quota) are reported too. Severity medium:
#   machine-learning and graphics teams launch them legitimately, but in
#   accounts that do not, this is the typical first sign of hijacked compute.
# custom:
#   id: threats.ec2_gpu_instances_launched
#   severity: medium
#   attack:
#     - {tactic: TA0040, technique: T1496}
#     - {tactic: TA0005, technique: T1578.002}
#   tags: [impact, resource-hijacking, cryptomining, ec2, T1496]
#   runbook: >-
#     Check with the account's owners that someone needs these instances. If
#     not, terminate them, look for the key pair and security group they were
#     launched with, and disable the principal's credentials.
#   references:
#     - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
#     - https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
#     - https://attack.mitre.org/techniques/T1496/
package rules.threats.ec2_gpu_instances_launched

import rego.v1

import data.lib.cloudtrail

# Accelerated computing families: p2…p5e, g3…g6e and gr6, inf1/inf2,
# trn1/trn2, dl1/dl2q, f1/f2, vt1. The family is what precedes the dot.
_accelerated := `^(p[0-9]+[a-z]*|g[0-9]+[a-z]*|gr[0-9]+[a-z]*|inf[0-9]+[a-z]*|trn[0-9]+[a-z]*|dl[0-9]+[a-z]*|f[0-9]+[a-z]*|vt[0-9]+[a-z]*)\.`

alert contains {"message": msg} if {
	input.eventSource == "ec2.amazonaws.com"
	input.eventName == "RunInstances"
	type := input.requestParameters.instanceType
	is_string(type)
	regex.match(_accelerated, type)
	not cloudtrail.by_aws_service(input)
	msg := sprintf("%s launched up to %s %s instance(s) in %s from %s%s", [
		cloudtrail.principal(input),
		_max_count,
		type,
		cloudtrail.region(input),
		cloudtrail.source(input),
		cloudtrail.outcome(input),
	])
}

_max_count := format_int(n, 10) if {
	n := input.requestParameters.instancesSet.items[0].maxCount
	is_number(n)
} else := "?"
