# METADATA
# title: Route 53 Resolver query logging removed
# description: >-
#   Someone deleted a Route 53 Resolver query logging configuration or
#   detached one from a VPC. DNS query logs show which names instances
#   resolved: command-and-control domains, exfiltration over DNS, lookups of
#   the instance metadata service. Severity medium: it blinds one of the few
#   records of what runs inside instances, but clean-ups with a VPC's
#   deletion remove it legitimately too.
# custom:
#   id: threats.dns_query_logging_deleted
#   severity: medium
#   attack: [{tactic: TA0005, technique: T1562.008}]
#   tags: [defense-evasion, route53resolver, dns, logging, T1562.008]
#   runbook: >-
#     Confirm the change with the network owner. If the VPCs still exist,
#     recreate the configuration and its associations, and review the
#     principal's other calls around the same time.
#   references:
#     - https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_DeleteResolverQueryLogConfig.html
#     - https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_DisassociateResolverQueryLogConfig.html
#     - https://attack.mitre.org/techniques/T1562/008/
package rules.threats.dns_query_logging_deleted

import rego.v1

import data.lib.cloudtrail

alert contains {"message": msg} if {
	input.eventSource == "route53resolver.amazonaws.com"
	input.eventName in {"DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig"}
	cloudtrail.succeeded(input)
	msg := cloudtrail.describe_call(input, ["resolverQueryLogConfigId", "resourceId"])
}
