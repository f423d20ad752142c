# METADATA
# title: New trust for outside identities (Roles Anywhere, SAML, OIDC)
# description: >-
#   Someone created or changed an IAM Roles Anywhere trust anchor, or an IAM
#   SAML or OpenID Connect identity provider. Each tells AWS to accept
#   identities vouched for by an outside party: a certificate authority, an
#   identity provider. Whoever controls that party can then obtain
#   credentials for every role that trusts it, with nothing in the account
#   to revoke but the trust itself. Severity high: these trusts are set up
#   once per identity system and changed almost never.
# custom:
#   id: threats.identity_provider_added
#   severity: high
#   attack:
#     - {tactic: TA0004, technique: T1484.002}
#     - {tactic: TA0005, technique: T1484.002}
#     - {tactic: TA0003, technique: T1098.001}
#   tags: [persistence, privilege-escalation, iam, rolesanywhere, federation, T1484.002]
#   runbook: >-
#     Confirm the new trust with the identity team. If unexpected, delete or
#     disable it, list the roles whose trust policies accept it
#     (rolesanywhere.amazonaws.com, the provider's ARN), and look for
#     sessions issued through it.
#   references:
#     - https://docs.aws.amazon.com/rolesanywhere/latest/APIReference/API_CreateTrustAnchor.html
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateSAMLProvider.html
#     - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
#     - https://attack.mitre.org/techniques/T1484/002/
package rules.threats.identity_provider_added

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "rolesanywhere.amazonaws.com"
	input.eventName in {"CreateTrustAnchor", "UpdateTrustAnchor", "EnableTrustAnchor"}
	cloudtrail.succeeded(input)
	msg := sprintf("%s: an outside certificate authority can now vouch for workloads", [cloudtrail.describe_call(input, ["name", "trustAnchorId"])])
}

alert contains {"message": msg} if {
	input.eventSource == "iam.amazonaws.com"
	input.eventName in {
		"CreateSAMLProvider",
		"UpdateSAMLProvider",
		"CreateOpenIDConnectProvider",
		"AddClientIDToOpenIDConnectProvider",
		"UpdateOpenIDConnectProviderThumbprint",
	}
	cloudtrail.succeeded(input)
	msg := sprintf("%s: an outside identity provider can now vouch for users", [cloudtrail.describe_call(input, ["name", "url", "sAMLProviderArn", "openIDConnectProviderArn"])])
}
