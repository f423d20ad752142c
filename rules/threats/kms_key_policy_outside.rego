# METADATA
# title: KMS key policy lets another account or everyone in
# description: >-
#   A KMS key was created with, or given, a key policy that allows an AWS
#   account outside the organisation (not the key's account, not in
#   data.known_accounts), or everyone, to use or manage the key. Whoever
#   holds that account can then decrypt what the key protects (snapshots,
#   secrets, S3 objects shared with it) or, given admin rights, schedule its
#   deletion and hold the data to ransom. "*" statements limited to the
#   account or organisation by a Condition (kms:CallerAccount,
#   aws:PrincipalOrgID) are not reported. Severity high: cross-account key
#   use is set up rarely and deliberately.
# custom:
#   id: threats.kms_key_policy_outside
#   severity: high
#   attack: [{tactic: TA0010, technique: T1537}]
#   tags: [exfiltration, persistence, kms, key-policy, T1537]
#   runbook: >-
#     Read the policy in requestParameters and remove the outside principal
#     (PutKeyPolicy). Check the key's CloudTrail usage (Decrypt,
#     GenerateDataKey, CreateGrant) from that account since the change.
#   references:
#     - https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
#     - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
#     - https://attack.mitre.org/techniques/T1537/
package rules.threats.kms_key_policy_outside

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "kms.amazonaws.com"
	input.eventName in {"PutKeyPolicy", "CreateKey"}
	cloudtrail.succeeded(input)
	policy := cloudtrail.policy_document(input.requestParameters.policy)
	outside := cloudtrail.policy_outside_accounts(input, policy)
	count(outside) > 0
	msg := sprintf("%s let %s use KMS key %s (%s) in %s from %s", [
		cloudtrail.principal(input),
		_who(outside),
		_key,
		input.eventName,
		cloudtrail.region(input),
		cloudtrail.source(input),
	])
}

_key := input.requestParameters.keyId if is_string(input.requestParameters.keyId)

else := input.responseElements.keyMetadata.keyId if is_string(input.responseElements.keyMetadata.keyId)

else := "(unknown)"

_who(outside) := "everyone" if "*" in outside

else := sprintf("account %s", [concat(", ", sort(outside))])
