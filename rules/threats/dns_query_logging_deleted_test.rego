package rules.threats.dns_query_logging_deleted_test

import rego.v1

import data.rules.threats.dns_query_logging_deleted as rule

# DeleteResolverQueryLogConfig (Route 53 API reference:
# ResolverQueryLogConfigId), and its response.
delete_config := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/net", "accountId": "111122223333", "userName": "net"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "route53resolver.amazonaws.com",
	"eventName": "DeleteResolverQueryLogConfig",
	"awsRegion": "eu-central-1",
	"sourceIPAddress": "198.51.100.20",
	"requestParameters": {"resolverQueryLogConfigId": "rqlc-0123456789abcdef"},
	"responseElements": {"resolverQueryLogConfig": {"id": "rqlc-0123456789abcdef", "status": "DELETING", "destinationArn": "arn:aws:s3:::dns-logs"}},
	"recipientAccountId": "111122223333",
}

test_fires_on_delete if {
	alerts := rule.alert with input as delete_config
	alerts == {{"message": `arn:aws:iam::111122223333:user/net called route53resolver:DeleteResolverQueryLogConfig (resolverQueryLogConfigId="rqlc-0123456789abcdef") in eu-central-1 from 198.51.100.20`}}
}

test_fires_on_disassociate if {
	event := object.union(delete_config, {
		"eventName": "DisassociateResolverQueryLogConfig",
		"requestParameters": {"resolverQueryLogConfigId": "rqlc-1", "resourceId": "vpc-0abc"},
	})
	alerts := rule.alert with input as event
	alerts == {{"message": `arn:aws:iam::111122223333:user/net called route53resolver:DisassociateResolverQueryLogConfig (resolverQueryLogConfigId="rqlc-1", resourceId="vpc-0abc") in eu-central-1 from 198.51.100.20`}}
}

test_quiet_for_failures_and_other_calls if {
	count(rule.alert) == 0 with input as object.union(delete_config, {"errorCode": "AccessDeniedException"})
	count(rule.alert) == 0 with input as object.union(delete_config, {"eventName": "CreateResolverQueryLogConfig"})
	count(rule.alert) == 0 with input as object.union(delete_config, {"eventSource": "route53.amazonaws.com"})
}
