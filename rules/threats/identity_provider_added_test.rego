package rules.threats.identity_provider_added_test

import rego.v1

import data.rules.threats.identity_provider_added as rule

# CreateTrustAnchor (IAM Roles Anywhere API reference: name, source
# {sourceType, sourceData}, enabled).
trust_anchor := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "rolesanywhere.amazonaws.com",
	"eventName": "CreateTrustAnchor",
	"awsRegion": "eu-west-1",
	"sourceIPAddress": "203.0.113.74",
	"requestParameters": {"name": "partner-ca", "enabled": true, "source": {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": "-----BEGIN CERTIFICATE-----"}}},
	"recipientAccountId": "111122223333",
}

test_fires_on_trust_anchor if {
	alerts := rule.alert with input as trust_anchor
	alerts == {{"message": `arn:aws:iam::111122223333:user/alice called rolesanywhere:CreateTrustAnchor (name="partner-ca") in eu-west-1 from 203.0.113.74: an outside certificate authority can now vouch for workloads`}}
	count(rule.alert) == 1 with input as object.union(trust_anchor, {"eventName": "UpdateTrustAnchor"})
}

test_fires_on_iam_identity_providers if {
	saml := object.union(trust_anchor, {"eventSource": "iam.amazonaws.com", "eventName": "CreateSAMLProvider", "requestParameters": {"name": "okta"}})
	alerts := rule.alert with input as saml
	alerts == {{"message": `arn:aws:iam::111122223333:user/alice called iam:CreateSAMLProvider (name="okta") in eu-west-1 from 203.0.113.74: an outside identity provider can now vouch for users`}}
	oidc := object.union(trust_anchor, {"eventSource": "iam.amazonaws.com", "eventName": "CreateOpenIDConnectProvider", "requestParameters": {"url": "https://token.actions.githubusercontent.com"}})
	count(rule.alert) == 1 with input as oidc
}

test_quiet_for_profiles_reads_and_failures if {
	count(rule.alert) == 0 with input as object.union(trust_anchor, {"eventName": "CreateProfile"})
	count(rule.alert) == 0 with input as object.union(trust_anchor, {"eventName": "ListTrustAnchors"})
	count(rule.alert) == 0 with input as object.union(trust_anchor, {"eventName": "DeleteTrustAnchor"})
	count(rule.alert) == 0 with input as object.union(trust_anchor, {"errorCode": "ValidationException"})
	count(rule.alert) == 0 with input as object.union(trust_anchor, {"eventSource": "iam.amazonaws.com", "eventName": "ListSAMLProviders"})
}
