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
