# Package lib.cloudtrail holds the helpers every rule pack shares.
#
# It lives outside data.rules on purpose: the engine evaluates
# data.rules[pack][rule].alert[a], so anything under data.rules two levels deep
# is taken for a rule.
#
# Every helper takes the CloudTrail record as an argument (rather than reading
# input) so rules and tests can hand it any event, and every helper is total:
# it is false, or falls back to a placeholder, on missing or oddly typed fields
# instead of raising a built-in error. CloudTrail records are loosely typed
# (userIdentity can lack a type, sourceIPAddress can be a service name,
# errorCode can be null), and one bad record must not stop evaluation.
package lib.cloudtrail

import rego.v1

# --- Outcome --------------------------------------------------------------------

# succeeded(e) holds when the call did not fail: CloudTrail writes errorCode
# only for failed calls, but some exporters write it as null or "".
#
# Helpers here run for every event a rule looks at, and each expression costs
# OPA's evaluator about a microsecond, so they are written with as few
# expressions and calls as stay total: one object.get here instead of a
# negated helper rule.
succeeded(e) if object.get(e, "errorCode", null) in {null, ""}

# denied(e) holds when the call was refused for lack of permission:
# IAM-style services say AccessDenied* (AccessDenied, AccessDeniedException),
# EC2-style ones say *UnauthorizedOperation (Client.UnauthorizedOperation).
# This is the CIS AWS Foundations 4.1 filter.
denied(e) if {
	is_string(e.errorCode)
	startswith(e.errorCode, "AccessDenied")
}

denied(e) if {
	is_string(e.errorCode)
	endswith(e.errorCode, "UnauthorizedOperation")
}

# --- Identity -------------------------------------------------------------------

# mfa_authenticated(e) holds when the session behind the call was MFA
# authenticated. CloudTrail writes the string "true"/"false"; the attribute is
# absent for long-term access keys, which therefore count as no MFA. Values
# that are not strings (a boolean from a re-serialising exporter, null) do not
# count either, and never raise an error.
mfa_authenticated(e) if {
	v := e.userIdentity.sessionContext.attributes.mfaAuthenticated
	is_string(v)
	lower(v) == "true"
}

# root_actor(e) holds when the account's root user made the call itself:
# directly, or through the console sign-in service. Calls AWS services make on
# the root user's behalf (invokedBy another service) are not root activity
# anybody typed.
root_actor(e) if {
	e.userIdentity.type == "Root"
	not _invoked_by_other_than_signin(e.userIdentity)
}

_invoked_by_other_than_signin(identity) if {
	by := identity.invokedBy
	not by in {null, "", "signin.amazonaws.com"}
}

# principal(e) names who made the call, for messages: the userIdentity ARN.
# Where there is none (failed console sign-ins, service events) it is the
# identity type, followed by the user name or invoking service when CloudTrail
# recorded one, e.g. "IAMUser anaya" or "AWSService ec2.amazonaws.com".
principal(e) := arn if {
	arn := e.userIdentity.arn
	is_string(arn)
	arn != ""
} else := concat(" ", [_identity_type(e), name]) if {
	name := _identity_name(e)
} else := _identity_type(e)

_identity_type(e) := t if {
	t := e.userIdentity.type
	is_string(t)
	t != ""
} else := "unknown identity"

_identity_name(e) := name if {
	name := e.userIdentity.userName
	is_string(name)
	name != ""
} else := by if {
	by := e.userIdentity.invokedBy
	is_string(by)
	by != ""
}

# --- Source address -------------------------------------------------------------

# is_ip(s) holds when s is an IPv4 or IPv6 address literal in standard
# notation. sourceIPAddress is often something else: a service name
# ("cloudformation.amazonaws.com") or "AWS Internal", and net.cidr_contains
# raises an error on those, so callers classify with is_ip first.
#
# IPv4 must be dotted decimal with octets 0-255 and no leading zeros: the
# anonymised "075.050.255.67" found in public datasets is ambiguous (octal?)
# and is rejected by Go's parser, which net.cidr_contains uses, so it is not
# an IP here either. IPv6 is whatever that parser accepts without a zone
# (RFC 4291 text forms, including "::ffff:192.0.2.1"); a zone ("fe80::1%eth0")
# never appears in CloudTrail and is rejected.
#
# It is decided by Go's own parser: net.cidr_is_valid parses with the function
# net.cidr_contains uses, which refuses zones, and /32 is a valid prefix length
# for both families. A "/" already in s makes the suffix "/…/32", which is not a
# prefix length, so a CIDR is never taken for an address.
is_ip(s) if {
	is_string(s)
	net.cidr_is_valid(concat("", [s, "/32"]))
}

# known_networks is data.known_networks (a list of CIDR strings from the
# configuration), or empty when nothing is configured. The engine refuses to
# load a known_networks that is not a list of valid CIDR blocks, so rules need
# not re-check every entry on every event.
known_networks := data.known_networks if is_array(data.known_networks)

else := []

# in_known_network(ip) holds when ip is inside any known network. It is false
# for anything that is not an IP.
in_known_network(ip) if {
	is_ip(ip)
	_in_known_network(ip)
}

# outside_known_networks(ip) holds when known networks are configured and ip is
# an IP address in none of them: the test for a call from an unexpected place.
# It is false for anything that is not an IP.
outside_known_networks(ip) if {
	count(known_networks) > 0
	is_ip(ip)
	not _in_known_network(ip)
}

_in_known_network(ip) if {
	some cidr in known_networks
	net.cidr_contains(cidr, ip)
}

# network(ip) is the network ip belongs to, as rules that learn networks
# compare them: its /24 for IPv4 (also when written IPv4-mapped, as
# "::ffff:192.0.2.1"), its /48 for IPv6, e.g. "198.51.100.0/24" or
# "2001:db8:1::/48". A /24 and a /48 are what one site, VPN or cloud NAT
# usually holds, so a user moving between the addresses of one network is not
# news. It is undefined for anything that is not an IP. net.cidr_merge
# parses the prefix with Go's net.ParseCIDR, which clears the host bits.
network(ip) := n if {
	is_ip(ip)
	v4 := _ipv4_part(ip)
	some n in net.cidr_merge([concat("", [v4, "/24"])])
} else := n if {
	is_ip(ip)
	some n in net.cidr_merge([concat("", [ip, "/48"])])
}

# The dotted part of an IPv4 address, written plainly or IPv4-mapped.
_ipv4_part(ip) := ip if not contains(ip, ":")

_ipv4_part(ip) := v4 if {
	contains(ip, ".")
	parts := split(ip, ":")
	v4 := parts[count(parts) - 1]
}

# --- Time -----------------------------------------------------------------------

# event_time_ns(e) is eventTime in nanoseconds since the epoch, and undefined
# when eventTime is missing or not a valid RFC 3339 time. time.parse_rfc3339_ns
# raises an error on anything it cannot parse or represent, so the format, the
# calendar (month lengths, leap years) and the year (int64 nanoseconds span
# 1677-09-21 to 2262-04-11) are checked first.
event_time_ns(e) := time.parse_rfc3339_ns(e.eventTime) if {
	is_string(e.eventTime)

	# parts[1] is the year, parts[2] the month, parts[3] the day, as strings.
	parts := regex.find_all_string_submatch_n(_rfc3339, e.eventTime, 1)[0]
	year := to_number(parts[1])
	year >= 1678
	year <= 2261
	parts[3] <= _days_in_month(year, parts[2])
}

# Date, "T", time with optional fraction, and "Z" or a numeric offset, with the
# ranges Go's parser enforces (hour 00-23, minute and second 00-59).
_rfc3339 := `^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`

# Month lengths as two-digit strings, compared with the zero-padded day.
_days_in_month(_, month) := "31" if month in {"01", "03", "05", "07", "08", "10", "12"}

_days_in_month(_, month) := "30" if month in {"04", "06", "09", "11"}

_days_in_month(year, "02") := "29" if _leap_year(year)

_days_in_month(year, "02") := "28" if not _leap_year(year)

_leap_year(year) if {
	year % 4 == 0
	year % 100 != 0
}

_leap_year(year) if year % 400 == 0

# --- Message parts --------------------------------------------------------------

# action(e) is the call as IAM spells it, e.g. "iam:PutRolePolicy".
action(e) := concat(":", [trim_suffix(e.eventSource, ".amazonaws.com"), e.eventName]) if {
	is_string(e.eventSource)
	is_string(e.eventName)
} else := e.eventName if {
	is_string(e.eventName)
} else := "an unknown action"

# source(e) is where the call came from: an IP, a service name or "AWS Internal".
source(e) := e.sourceIPAddress if {
	is_string(e.sourceIPAddress)
	e.sourceIPAddress != ""
} else := "an unknown source"

# region(e) is the region the call was made in.
region(e) := e.awsRegion if {
	is_string(e.awsRegion)
	e.awsRegion != ""
} else := "an unknown region"

# request_param(e, name) is a request parameter as text, for messages, or
# "(unknown)" when the event does not carry it.
request_param(e, name) := v if {
	v := e.requestParameters[name]
	is_string(v)
} else := json.marshal(v) if {
	v := e.requestParameters[name]
	v != null
} else := "(unknown)"

# params(e, names) lists the named request parameters the event carries, as
# ` (name="value", other=3)`, or "" when it carries none of them. Values are
# JSON-encoded so that quoting is unambiguous.
params(e, names) := concat("", [" (", concat(", ", parts), ")"]) if {
	parts := [sprintf("%s=%s", [name, json.marshal(v)]) |
		some name in names
		v := e.requestParameters[name]
		v != null
	]
	count(parts) > 0
} else := ""

# outcome(e) is "" for a call that succeeded, and says how it failed otherwise,
# for rules that report attempts as well as changes. Failed console sign-ins
# carry an errorMessage but no errorCode.
outcome(e) := sprintf("; the call failed with %v", [code]) if {
	code := e.errorCode
	not code in {null, ""}
} else := sprintf("; it failed (%s)", [msg]) if {
	msg := e.errorMessage
	is_string(msg)
	msg != ""
} else := ""

# describe_call(e, names) is the usual alert sentence for a rule that reports
# a kind of call: who called what, on which resource (the named request
# parameters), where and from where, and whether it failed.
describe_call(e, names) := sprintf("%s called %s%s in %s from %s%s", [
	principal(e),
	action(e),
	params(e, names),
	region(e),
	source(e),
	outcome(e),
])

# --- Accounts and principals ------------------------------------------------------

# known_accounts is data.known_accounts (AWS account ids of the organisation and
# of trusted partners, as strings), or empty when nothing is configured. A
# number in the list (YAML reads 012345678901 as text only when quoted) is
# ignored rather than trusted.
known_accounts := {a | some a in data.known_accounts; is_string(a)} if is_array(data.known_accounts)

else := set()

# own_account(e) is the account the event happened in: recipientAccountId,
# else the caller's account.
own_account(e) := e.recipientAccountId if {
	is_string(e.recipientAccountId)
	e.recipientAccountId != ""
} else := e.userIdentity.accountId if {
	is_string(e.userIdentity.accountId)
	e.userIdentity.accountId != ""
}

# account_of(p) is the AWS account a principal in a policy or share names:
# "123456789012", "arn:aws:iam::123456789012:root" or any ARN of that
# account's users and roles, or "*" for everyone (and "all", which is how
# EC2 and RDS spell public in shares). Undefined for service principals and
# anything else.
account_of(p) := p if {
	is_string(p)
	regex.match(`^[0-9]{12}$`, p)
} else := parts[4] if {
	is_string(p)
	startswith(p, "arn:")
	parts := split(p, ":")
	count(parts) >= 6
	regex.match(`^[0-9]{12}$`, parts[4])
} else := "*" if {
	p in {"*", "all"}
}

# is_public_account(a) holds for the account_of value meaning everyone.
is_public_account("*")

# outside_account(e, a) holds when the account a (as account_of returns it) is
# neither the event's own account nor one of the known accounts: a share or
# trust with it gives someone outside the organisation access. Everyone ("*")
# is always outside.
outside_account(_, "*")

outside_account(e, a) if {
	a != "*"
	a != own_account(e)
	not a in known_accounts
}

# outside_accounts(e, principals) lists the accounts among principals (any
# value account_of understands; other values are skipped) that are outside.
outside_accounts(e, principals) := {a |
	some p in principals
	a := account_of(p)
	outside_account(e, a)
}

# caller_user_name(e) is the IAM user name of the caller when an IAM user (or
# the root user, as "root") made the call; undefined for roles and services.
caller_user_name(e) := e.userIdentity.userName if {
	e.userIdentity.type == "IAMUser"
	is_string(e.userIdentity.userName)
} else := "root" if {
	e.userIdentity.type == "Root"
}

# is_other_principal(e, user_name) holds when the IAM user the call acts on
# (its userName parameter) is someone else than the caller. IAM applies
# calls without a userName (CreateAccessKey, UpdateLoginProfile) to the caller
# itself, so a missing or empty name is never another principal; roles and
# federated sessions have no user name of their own, so every user is
# another principal to them.
is_other_principal(e, user_name) if {
	is_string(user_name)
	user_name != ""
	not _is_caller(e, user_name)
}

# A helper rather than `not caller_user_name(e) == user_name`, which OPA
# compiles so that it fails, instead of holding, when the caller has no user
# name.
_is_caller(e, user_name) if caller_user_name(e) == user_name

# by_aws_service(e) holds when an AWS service made the call on the caller's
# behalf (CloudFormation, Auto Scaling, SSM State Manager, …): invokedBy is
# set, or the source "address" is the service's name. Such calls follow a
# template or a schedule somebody reviewed, not a person at a keyboard.
by_aws_service(e) if {
	is_string(e.userIdentity.invokedBy)
	e.userIdentity.invokedBy != ""
}

by_aws_service(e) if e.userIdentity.type == "AWSService"

by_aws_service(e) if {
	is_string(e.sourceIPAddress)
	endswith(e.sourceIPAddress, ".amazonaws.com")
}

# --- Policy documents -------------------------------------------------------------

# policy_document(v) is an IAM-style policy as an object, whether the event
# carries it as an object (S3's bucketPolicy), as JSON text (IAM's
# policyDocument, KMS's policy) or URL-encoded JSON text (IAM responses).
# Undefined when v is none of these.
policy_document(v) := v if is_object(v)

else := json.unmarshal(v) if {
	is_string(v)
	json.is_valid(v)
} else := json.unmarshal(decoded) if {
	decoded := url_decode(v)
	json.is_valid(decoded)
}

# url_decode(s) is s with %XX escapes and "+" decoded, and undefined for
# anything urlquery.decode would raise an error on (a stray "%").
url_decode(s) := urlquery.decode(s) if {
	is_string(s)
	regex.match(`^([^%]|%[0-9A-Fa-f]{2})*$`, s)
}

# allow_statements(policy) lists the policy's Allow statements; Statement may
# be one object or a list.
allow_statements(policy) := [s |
	some s in _statements(policy)
	is_object(s)
	s.Effect == "Allow"
]

_statements(policy) := policy.Statement if is_array(policy.Statement)

else := [policy.Statement] if is_object(policy.Statement)

else := []

# statement_principals(s) lists the AWS principals a statement names:
# Principal "*" means everyone, {"AWS": x} names accounts, users and roles
# (one string or a list). Service and federated principals are left out:
# they are AWS services or identity providers, not other accounts.
statement_principals(s) := ["*"] if s.Principal == "*"

else := [p | some p in _as_list(s.Principal.AWS)]

_as_list(v) := v if is_array(v)

else := [v] if is_string(v)

else := []

# restricted_to_known_callers(s) holds when a statement's Condition limits it
# to the organisation, an account, a VPC or a source resource: the usual way
# a "Principal": "*" statement is made safe. A Condition on anything else
# (aws:SecureTransport, a user agent) restricts nothing about who can call.
restricted_to_known_callers(s) if {
	some _, block in s.Condition
	some key, _ in block
	lower(key) in {
		"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount",
		"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths",
		"aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:principalarn",
		"aws:resourceorgid", "kms:calleraccount", "kms:viaservice",
	}
}

# policy_outside_accounts(e, policy) lists the accounts outside the
# organisation (or "*" for everyone) that the policy's Allow statements let
# in. A "*" statement restricted to known callers by its Condition does not
# count as public.
policy_outside_accounts(e, policy) := {a |
	some s in allow_statements(policy)
	principals := statement_principals(s)
	some p in principals
	a := account_of(p)
	outside_account(e, a)
	not _restricted_public(s, a)
}

_restricted_public(s, "*") if restricted_to_known_callers(s)

# --- Networks -----------------------------------------------------------------------

# is_world_cidr(c) holds for a CIDR block of prefix length 0 (0.0.0.0/0,
# ::/0, or any address with /0): a rule or route for every address there is.
is_world_cidr(c) if {
	is_string(c)
	net.cidr_is_valid(c)
	endswith(c, "/0")
}
