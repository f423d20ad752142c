package rules.threats.lambda_layer_added_test

import rego.v1

import data.rules.threats.lambda_layer_added as rule

# UpdateFunctionConfiguration (Lambda API reference: FunctionName, Layers,
# a list of layer version ARNs, and the other settings).
update(layers) := {
	"eventVersion": "1.08",
	"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventTime": "2025-03-01T10:00:00Z",
	"eventSource": "lambda.amazonaws.com",
	"eventName": "UpdateFunctionConfiguration20150331v2",
	"awsRegion": "us-east-1",
	"sourceIPAddress": "198.51.100.33",
	"requestParameters": {"functionName": "orders", "layers": layers},
	"recipientAccountId": "111122223333",
}

own_layer := "arn:aws:lambda:us-east-1:111122223333:layer:otel:4"

foreign_layer := "arn:aws:lambda:us-east-1:999988887777:layer:ext:1"

test_fires_medium_for_own_layers if {
	alerts := rule.alert with input as update([own_layer])
	alerts == {{"message": `arn:aws:iam::111122223333:user/dev called lambda:UpdateFunctionConfiguration20150331v2 (functionName="orders", layers=["arn:aws:lambda:us-east-1:111122223333:layer:otel:4"]) in us-east-1 from 198.51.100.33`}}
}

test_fires_high_for_outside_layers if {
	alerts := rule.alert with input as update([own_layer, foreign_layer])
	alerts == {{
		"message": `arn:aws:iam::111122223333:user/dev called lambda:UpdateFunctionConfiguration20150331v2 (functionName="orders", layers=["arn:aws:lambda:us-east-1:111122223333:layer:otel:4","arn:aws:lambda:us-east-1:999988887777:layer:ext:1"]) in us-east-1 from 198.51.100.33; layers from accounts outside the organisation: 999988887777`,
		"severity": "high",
	}}
}

test_known_accounts_are_not_outside if {
	alerts := rule.alert with input as update([foreign_layer]) with data.known_accounts as ["999988887777"]
	count(alerts) == 1
	every a in alerts {
		not a.severity
	}
}

test_quiet_without_layers if {
	count(rule.alert) == 0 with input as update([])
	count(rule.alert) == 0 with input as json.patch(update([]), [{"op": "replace", "path": "/requestParameters", "value": {"functionName": "orders", "timeout": 30}}])
}

test_quiet_for_services_and_failures if {
	count(rule.alert) == 0 with input as object.union(update([own_layer]), {"sourceIPAddress": "cloudformation.amazonaws.com"})
	count(rule.alert) == 0 with input as object.union(update([own_layer]), {"errorCode": "AccessDeniedException"})
}
