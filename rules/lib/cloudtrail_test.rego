package lib.cloudtrail_test

import rego.v1

import data.lib.cloudtrail

# The AWS OpsWorks user guide's CreateServer record (samples/awsdocs-opsworks-cm), trimmed.
assumed_role_event := {
	"eventVersion": "1.05",
	"userIdentity": {
		"type": "AssumedRole",
		"principalId": "ID number:OpsWorksCMUser",
		"arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		"accountId": "831000000000",
		"sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2017-01-05T22:03:47Z"}},
	},
	"eventTime": "2017-01-05T22:18:23Z",
	"eventSource": "opsworks-cm.amazonaws.com",
	"eventName": "CreateServer",
	"awsRegion": "us-west-2",
	"sourceIPAddress": "101.25.190.51",
	"requestParameters": {"serverName": "OpsChef-test-server", "engine": "Chef", "backupRetentionCount": 3},
}

# Console sign-in example08: a failed root sign-in (samples/awsdocs-console-signin).
root_signin_event := {
	"userIdentity": {
		"type": "Root",
		"principalId": "AIDACKCEVSQ6C2EXAMPLE",
		"arn": "arn:aws:iam::111122223333:root",
		"accountId": "111122223333",
		"accessKeyId": "",
	},
	"eventSource": "signin.amazonaws.com",
	"eventName": "ConsoleLogin",
	"errorMessage": "Failed authentication",
	"responseElements": {"ConsoleLogin": "Failure"},
}

with_mfa(value) := json.patch(assumed_role_event, [{
	"op": "replace",
	"path": "/userIdentity/sessionContext/attributes/mfaAuthenticated",
	"value": value,
}])

# --- succeeded / denied ---------------------------------------------------------

test_succeeded_without_error_code if cloudtrail.succeeded(assumed_role_event)

test_succeeded_with_null_or_empty_error_code if {
	cloudtrail.succeeded({"errorCode": null})
	cloudtrail.succeeded({"errorCode": ""})
}

test_not_succeeded_with_error_code if {
	not cloudtrail.succeeded({"errorCode": "AccessDenied"})
	not cloudtrail.succeeded({"errorCode": "ThrottlingException"})
}

test_denied if {
	cloudtrail.denied({"errorCode": "AccessDenied"})
	cloudtrail.denied({"errorCode": "AccessDeniedException"})
	cloudtrail.denied({"errorCode": "Client.UnauthorizedOperation"})
	cloudtrail.denied({"errorCode": "UnauthorizedOperation"})
}

test_not_denied if {
	not cloudtrail.denied(assumed_role_event)
	not cloudtrail.denied({"errorCode": null})
	not cloudtrail.denied({"errorCode": 403})
	not cloudtrail.denied({"errorCode": "ThrottlingException"})
	not cloudtrail.denied({"errorCode": "TrailNotFoundException"})
	not cloudtrail.denied({"errorCode": "accessdenied"})
}

# --- mfa_authenticated ----------------------------------------------------------

test_mfa_authenticated if {
	cloudtrail.mfa_authenticated(with_mfa("true"))
	cloudtrail.mfa_authenticated(with_mfa("TRUE"))
	cloudtrail.mfa_authenticated(with_mfa("True"))
}

test_not_mfa_authenticated if {
	not cloudtrail.mfa_authenticated(assumed_role_event) # "false"
	not cloudtrail.mfa_authenticated(root_signin_event) # no sessionContext: long-term credentials
	not cloudtrail.mfa_authenticated(with_mfa("yes"))
	not cloudtrail.mfa_authenticated(with_mfa(""))
}

test_mfa_authenticated_non_string_values_do_not_error if {
	not cloudtrail.mfa_authenticated(with_mfa(true))
	not cloudtrail.mfa_authenticated(with_mfa(null))
	not cloudtrail.mfa_authenticated(with_mfa(1))
	not cloudtrail.mfa_authenticated({"userIdentity": null})
	not cloudtrail.mfa_authenticated({"userIdentity": {"sessionContext": "x"}})
}

# --- root_actor -----------------------------------------------------------------

test_root_actor if {
	cloudtrail.root_actor(root_signin_event)
	cloudtrail.root_actor(json.patch(root_signin_event, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "signin.amazonaws.com"}]))
}

test_not_root_actor if {
	not cloudtrail.root_actor(assumed_role_event)
	not cloudtrail.root_actor(json.patch(root_signin_event, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "support.amazonaws.com"}]))
	not cloudtrail.root_actor(json.patch(root_signin_event, [{"op": "add", "path": "/userIdentity/invokedBy", "value": "AWS Internal"}]))
	not cloudtrail.root_actor({"userIdentity": null})
	not cloudtrail.root_actor({})
}

# --- principal ------------------------------------------------------------------

test_principal_is_the_arn if {
	cloudtrail.principal(assumed_role_event) == "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser"
}

test_principal_without_arn if {
	# Console sign-in example03: a failed IAM-user sign-in has a userName but no arn.
	cloudtrail.principal({"userIdentity": {"type": "IAMUser", "accountId": "111122223333", "userName": "anaya"}}) == "IAMUser anaya"

	# A service event (invictus-ir SharedSnapshotVolumeCreated) has neither type nor arn.
	cloudtrail.principal({"userIdentity": {"accountId": "123837392027", "invokedBy": "ec2.amazonaws.com"}}) == "unknown identity ec2.amazonaws.com"
	cloudtrail.principal({"userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}}) == "AWSService ec2.amazonaws.com"
	cloudtrail.principal({"userIdentity": {"type": "AWSAccount", "arn": ""}}) == "AWSAccount"
	cloudtrail.principal({"userIdentity": null}) == "unknown identity"
	cloudtrail.principal({}) == "unknown identity"
}

# --- is_ip / in_known_network ---------------------------------------------------

test_is_ip if {
	cloudtrail.is_ip("101.25.190.51")
	cloudtrail.is_ip("0.0.0.0")
	cloudtrail.is_ip("255.255.255.255")
	cloudtrail.is_ip("192.168.10.20")
	cloudtrail.is_ip("2001:db8::1")
	cloudtrail.is_ip("2001:DB8:0:0:0:0:0:1")
	cloudtrail.is_ip("::1")
	cloudtrail.is_ip("::ffff:192.0.2.1")
}

test_is_not_ip if {
	not cloudtrail.is_ip("cloudformation.amazonaws.com")
	not cloudtrail.is_ip("AWS Internal")
	not cloudtrail.is_ip("")
	not cloudtrail.is_ip("256.1.1.1")
	not cloudtrail.is_ip("1.2.3")
	not cloudtrail.is_ip("1.2.3.4.5")
	not cloudtrail.is_ip("10.0.0.0/8")
	not cloudtrail.is_ip(" 1.2.3.4")
	not cloudtrail.is_ip("2001:db8::1::1")
	not cloudtrail.is_ip("fe80::1%eth0")
	not cloudtrail.is_ip("2001:db8::/32")
	not cloudtrail.is_ip(null)
	not cloudtrail.is_ip(16909060)
}

# Anonymised public datasets write IPv4 with leading zeros; that is not
# standard notation (octal or decimal?), Go's parser rejects it, so it is not
# an IP and is never handed to net.cidr_contains.
test_is_ip_rejects_leading_zeros if {
	not cloudtrail.is_ip("075.050.255.67")
	not cloudtrail.is_ip("01.2.3.4")
	not cloudtrail.is_ip("1.2.3.00")
}

test_in_known_network if {
	cloudtrail.in_known_network("10.1.2.3") with data.known_networks as ["192.0.2.0/24", "10.0.0.0/8"]
	cloudtrail.in_known_network("2001:db8::42") with data.known_networks as ["10.0.0.0/8", "2001:db8::/32"]
	cloudtrail.in_known_network("::ffff:10.1.2.3") with data.known_networks as ["10.0.0.0/8"]
}

test_not_in_known_network if {
	not cloudtrail.in_known_network("11.1.2.3") with data.known_networks as ["10.0.0.0/8"]
	not cloudtrail.in_known_network("2001:db9::1") with data.known_networks as ["2001:db8::/32", "10.0.0.0/8"]
	not cloudtrail.in_known_network("AWS Internal") with data.known_networks as ["10.0.0.0/8"]
	not cloudtrail.in_known_network("cloudformation.amazonaws.com") with data.known_networks as ["0.0.0.0/0"]
	not cloudtrail.in_known_network("10.1.2.3") with data.known_networks as []
	not cloudtrail.in_known_network("10.1.2.3")
}

# known_networks is what the configuration says, or empty when it says nothing
# usable. Invalid CIDR entries never get this far: the engine refuses them at
# load (engine.TestKnownNetworksAreChecked).
test_known_networks if {
	cloudtrail.known_networks == ["10.0.0.0/8", "2001:db8::/32"] with data.known_networks as ["10.0.0.0/8", "2001:db8::/32"]
	count(cloudtrail.known_networks) == 0
	count(cloudtrail.known_networks) == 0 with data.known_networks as "10.0.0.0/8"
}

test_outside_known_networks if {
	cloudtrail.outside_known_networks("11.1.2.3") with data.known_networks as ["10.0.0.0/8"]
	cloudtrail.outside_known_networks("2001:db9::1") with data.known_networks as ["2001:db8::/32", "10.0.0.0/8"]
	not cloudtrail.outside_known_networks("10.1.2.3") with data.known_networks as ["192.0.2.0/24", "10.0.0.0/8"]
	not cloudtrail.outside_known_networks("::ffff:10.1.2.3") with data.known_networks as ["10.0.0.0/8"]
	not cloudtrail.outside_known_networks("AWS Internal") with data.known_networks as ["10.0.0.0/8"]
	not cloudtrail.outside_known_networks("11.1.2.3") with data.known_networks as []
	not cloudtrail.outside_known_networks("11.1.2.3")
}

# --- event_time_ns --------------------------------------------------------------

test_event_time_ns if {
	cloudtrail.event_time_ns(assumed_role_event) == time.parse_rfc3339_ns("2017-01-05T22:18:23Z")
	cloudtrail.event_time_ns({"eventTime": "2024-05-05T00:00:00.5Z"}) == time.parse_rfc3339_ns("2024-05-05T00:00:00Z") + 500000000
	cloudtrail.event_time_ns({"eventTime": "2024-05-05T02:00:00+02:00"}) == time.parse_rfc3339_ns("2024-05-05T00:00:00Z")
	cloudtrail.event_time_ns({"eventTime": "2024-05-05T00:00:00.123456789123Z"}) == time.parse_rfc3339_ns("2024-05-05T00:00:00Z") + 123456789
	cloudtrail.event_time_ns({"eventTime": "2024-02-29T00:00:00Z"}) == time.parse_rfc3339_ns("2024-02-29T00:00:00Z")
	cloudtrail.event_time_ns({"eventTime": "2000-02-29T00:00:00Z"}) == time.parse_rfc3339_ns("2000-02-29T00:00:00Z")
	cloudtrail.event_time_ns({"eventTime": "2261-12-31T23:59:59Z"}) == time.parse_rfc3339_ns("2261-12-31T23:59:59Z")
}

test_event_time_ns_undefined_on_bad_times if {
	not cloudtrail.event_time_ns({})
	not cloudtrail.event_time_ns({"eventTime": null})
	not cloudtrail.event_time_ns({"eventTime": 1714867200})
	not cloudtrail.event_time_ns({"eventTime": ""})
	not cloudtrail.event_time_ns({"eventTime": "Jan 5, 2017 10:18:22 PM"})
	not cloudtrail.event_time_ns({"eventTime": "2024-05-05"})
	not cloudtrail.event_time_ns({"eventTime": "2024-05-05 00:00:00Z"})
	not cloudtrail.event_time_ns({"eventTime": "2024-13-01T00:00:00Z"})
	not cloudtrail.event_time_ns({"eventTime": "2024-04-31T00:00:00Z"})
	not cloudtrail.event_time_ns({"eventTime": "2023-02-29T00:00:00Z"})
	not cloudtrail.event_time_ns({"eventTime": "1900-02-29T00:00:00Z"})
	not cloudtrail.event_time_ns({"eventTime": "0400-02-29T00:00:00Z"}) # beyond int64 nanoseconds
	not cloudtrail.event_time_ns({"eventTime": "9999-12-31T23:59:59Z"})
	not cloudtrail.event_time_ns({"eventTime": "2024-05-05T24:00:00Z"})
	not cloudtrail.event_time_ns({"eventTime": "2024-05-05T23:59:60Z"})
	not cloudtrail.event_time_ns({"eventTime": "2024-05-05T00:00:00+24:00"})
}

# --- message parts --------------------------------------------------------------

test_action if {
	cloudtrail.action(assumed_role_event) == "opsworks-cm:CreateServer"
	cloudtrail.action({"eventName": "CreateServer"}) == "CreateServer"
	cloudtrail.action({}) == "an unknown action"
}

test_source_and_region if {
	cloudtrail.source(assumed_role_event) == "101.25.190.51"
	cloudtrail.source({"sourceIPAddress": "AWS Internal"}) == "AWS Internal"
	cloudtrail.source({}) == "an unknown source"
	cloudtrail.region(assumed_role_event) == "us-west-2"
	cloudtrail.region({"awsRegion": null}) == "an unknown region"
}

test_request_param if {
	cloudtrail.request_param(assumed_role_event, "serverName") == "OpsChef-test-server"
	cloudtrail.request_param(assumed_role_event, "backupRetentionCount") == "3"
	cloudtrail.request_param(assumed_role_event, "backupId") == "(unknown)"
	cloudtrail.request_param({"requestParameters": null}, "serverName") == "(unknown)"
	cloudtrail.request_param({"requestParameters": {"serverName": null}}, "serverName") == "(unknown)"
}

test_params if {
	cloudtrail.params(assumed_role_event, ["serverName", "backupId", "backupRetentionCount"]) == ` (serverName="OpsChef-test-server", backupRetentionCount=3)`
	cloudtrail.params(assumed_role_event, ["backupId"]) == ""
	cloudtrail.params({"requestParameters": null}, ["serverName"]) == ""
	cloudtrail.params({}, ["serverName"]) == ""
}

test_outcome if {
	cloudtrail.outcome(assumed_role_event) == ""
	cloudtrail.outcome({"errorCode": "AccessDenied"}) == "; the call failed with AccessDenied"
}

test_describe_call if {
	cloudtrail.describe_call(assumed_role_event, ["serverName"]) == `arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser called opsworks-cm:CreateServer (serverName="OpsChef-test-server") in us-west-2 from 101.25.190.51`
	cloudtrail.describe_call({}, ["serverName"]) == "unknown identity called an unknown action in an unknown region from an unknown source"
}

# --- accounts and principals ----------------------------------------------------

in_account(id) := {"recipientAccountId": id, "userIdentity": {"type": "IAMUser", "accountId": id, "userName": "alice"}}

test_known_accounts if {
	cloudtrail.known_accounts == set()
	cloudtrail.known_accounts == {"444455556666"} with data.known_accounts as ["444455556666", 444455556666]
	cloudtrail.known_accounts == set() with data.known_accounts as "444455556666"
}

test_own_account if {
	cloudtrail.own_account(in_account("111122223333")) == "111122223333"
	cloudtrail.own_account({"userIdentity": {"accountId": "111122223333"}}) == "111122223333"
	not cloudtrail.own_account({})
}

test_account_of if {
	cloudtrail.account_of("111122223333") == "111122223333"
	cloudtrail.account_of("arn:aws:iam::111122223333:root") == "111122223333"
	cloudtrail.account_of("arn:aws:iam::111122223333:role/path/app") == "111122223333"
	cloudtrail.account_of("arn:aws-cn:sts::111122223333:assumed-role/a/b") == "111122223333"
	cloudtrail.account_of("arn:aws:lambda:us-east-1:111122223333:layer:x:1") == "111122223333"
	cloudtrail.account_of("*") == "*"
	cloudtrail.account_of("all") == "*"
	not cloudtrail.account_of("s3.amazonaws.com")
	not cloudtrail.account_of("1111")
	not cloudtrail.account_of("arn:aws:s3:::bucket")
	not cloudtrail.account_of(111122223333)
	not cloudtrail.account_of(null)
}

test_outside_account if {
	e := in_account("111122223333")
	cloudtrail.outside_account(e, "999988887777")
	cloudtrail.outside_account(e, "*")
	not cloudtrail.outside_account(e, "111122223333")
	not cloudtrail.outside_account(e, "444455556666") with data.known_accounts as ["444455556666"]
	cloudtrail.outside_account(e, "*") with data.known_accounts as ["*"]
}

test_outside_accounts if {
	e := in_account("111122223333")
	cloudtrail.outside_accounts(e, ["111122223333", "arn:aws:iam::999988887777:root", "all", "s3.amazonaws.com", 7]) == {"999988887777", "*"}
	cloudtrail.outside_accounts(e, []) == set()
}

test_is_other_principal if {
	alice := in_account("111122223333")
	cloudtrail.is_other_principal(alice, "bob")
	not cloudtrail.is_other_principal(alice, "alice")
	not cloudtrail.is_other_principal(alice, "")
	not cloudtrail.is_other_principal(alice, null)
	cloudtrail.is_other_principal({"userIdentity": {"type": "AssumedRole"}}, "alice")
	cloudtrail.is_other_principal({"userIdentity": {"type": "Root"}}, "alice")
	cloudtrail.is_other_principal({}, "alice")
}

test_by_aws_service if {
	cloudtrail.by_aws_service({"userIdentity": {"invokedBy": "cloudformation.amazonaws.com"}})
	cloudtrail.by_aws_service({"userIdentity": {"type": "AWSService"}})
	cloudtrail.by_aws_service({"sourceIPAddress": "autoscaling.amazonaws.com"})
	not cloudtrail.by_aws_service({"userIdentity": {"invokedBy": ""}, "sourceIPAddress": "203.0.113.1"})
	not cloudtrail.by_aws_service({"sourceIPAddress": "AWS Internal"})
	not cloudtrail.by_aws_service({})
}

# --- policy documents -----------------------------------------------------------

policy(statements) := {"Version": "2012-10-17", "Statement": statements}

test_policy_document if {
	p := policy([{"Effect": "Allow"}])
	cloudtrail.policy_document(p) == p
	cloudtrail.policy_document(json.marshal(p)) == p
	cloudtrail.policy_document(urlquery.encode(json.marshal(p))) == p
	not cloudtrail.policy_document("not json")
	not cloudtrail.policy_document("100%")
	not cloudtrail.policy_document(7)
}

test_url_decode if {
	cloudtrail.url_decode("a%20b+c") == "a b c"
	not cloudtrail.url_decode("%zz")
	not cloudtrail.url_decode("50%")
	not cloudtrail.url_decode(null)
}

test_allow_statements if {
	cloudtrail.allow_statements(policy([{"Effect": "Allow", "Sid": "a"}, {"Effect": "Deny"}, "x"])) == [{"Effect": "Allow", "Sid": "a"}]
	cloudtrail.allow_statements({"Statement": {"Effect": "Allow"}}) == [{"Effect": "Allow"}]
	cloudtrail.allow_statements({}) == []
	cloudtrail.allow_statements({"Statement": "x"}) == []
}

test_statement_principals if {
	cloudtrail.statement_principals({"Principal": "*"}) == ["*"]
	cloudtrail.statement_principals({"Principal": {"AWS": "111122223333"}}) == ["111122223333"]
	cloudtrail.statement_principals({"Principal": {"AWS": ["a", "b"]}}) == ["a", "b"]
	cloudtrail.statement_principals({"Principal": {"Service": "ec2.amazonaws.com"}}) == []
	cloudtrail.statement_principals({}) == []
}

test_policy_outside_accounts if {
	e := in_account("111122223333")
	p := policy([
		{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::999988887777:root"]}},
		{"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
		{"Effect": "Allow", "Principal": {"AWS": "*"}, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
		{"Effect": "Deny", "Principal": {"AWS": "555566667777"}},
	])
	cloudtrail.policy_outside_accounts(e, p) == {"999988887777", "*"}
	cloudtrail.policy_outside_accounts(e, p) == {"*"} with data.known_accounts as ["999988887777"]
}

# --- networks -------------------------------------------------------------------

test_is_world_cidr if {
	cloudtrail.is_world_cidr("0.0.0.0/0")
	cloudtrail.is_world_cidr("::/0")
	cloudtrail.is_world_cidr("203.0.113.9/0")
	not cloudtrail.is_world_cidr("10.0.0.0/8")
	not cloudtrail.is_world_cidr("0.0.0.0/00x")
	not cloudtrail.is_world_cidr("garbage/0")
	not cloudtrail.is_world_cidr(null)
}

test_network_of_ipv4_is_its_24 if {
	cloudtrail.network("198.51.100.7") == "198.51.100.0/24"
	cloudtrail.network("10.0.0.255") == "10.0.0.0/24"
	cloudtrail.network("::ffff:198.51.100.7") == "198.51.100.0/24"
}

test_network_of_ipv6_is_its_48 if {
	cloudtrail.network("2001:db8:1:2:3::4") == "2001:db8:1::/48"
	cloudtrail.network("2001:db8::1") == "2001:db8::/48"
}

test_network_of_non_ips_is_undefined if {
	not cloudtrail.network("cloudformation.amazonaws.com")
	not cloudtrail.network("AWS Internal")
	not cloudtrail.network("075.050.255.67")
	not cloudtrail.network(null)
	not cloudtrail.network("198.51.100.0/24")
}
