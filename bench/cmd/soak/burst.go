//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
)

// burstSize is how many distinct secrets one principal reads, and how many
// distinct actions another has refused, in a burst: above the built-in
// threshold rules' 10 (threats.secrets_bulk_read, threats.denied_calls_burst),
// so that each burst makes both fire, not only count.
const burstSize = 12

// burstPrincipals is how many principals the bursts take in turn: each
// keeps its threshold windows and known values in the daemon's state, and
// alerts on a principal are deduplicated for an hour, so a few dozen keep
// both the state and the alerts moving.
const burstPrincipals = 40

// deniedActions are the refused calls of a burst: a sweep across services,
// as permission enumeration makes.
var deniedActions = []struct{ source, name, code string }{
	{"iam.amazonaws.com", "ListUsers", "AccessDenied"},
	{"iam.amazonaws.com", "ListRoles", "AccessDenied"},
	{"iam.amazonaws.com", "ListPolicies", "AccessDenied"},
	{"s3.amazonaws.com", "ListBuckets", "AccessDenied"},
	{"ec2.amazonaws.com", "DescribeInstances", "Client.UnauthorizedOperation"},
	{"ec2.amazonaws.com", "DescribeVpcs", "Client.UnauthorizedOperation"},
	{"lambda.amazonaws.com", "ListFunctions20150331", "AccessDeniedException"},
	{"dynamodb.amazonaws.com", "ListTables", "AccessDeniedException"},
	{"kms.amazonaws.com", "ListKeys", "AccessDeniedException"},
	{"secretsmanager.amazonaws.com", "ListSecrets", "AccessDeniedException"},
	{"rds.amazonaws.com", "DescribeDBInstances", "AccessDenied"},
	{"sqs.amazonaws.com", "ListQueues", "AccessDenied"},
}

// burstRecords are the records one burst adds to a delivery file whose
// window ends at end: burst n's principal reads burstSize distinct secrets
// and has burstSize distinct actions refused, a second apart.
func burstRecords(n int, account string, end time.Time) [][]byte {
	who := n % burstPrincipals
	user := fmt.Sprintf("ops-automation-%02d", who)
	identity := map[string]any{
		"type": "IAMUser", "principalId": fmt.Sprintf("AIDABURST%011d", who),
		"arn": "arn:aws:iam::" + account + ":user/" + user, "accountId": account,
		"accessKeyId": fmt.Sprintf("AKIABURST%011d", who), "userName": user,
	}
	var out [][]byte
	add := func(i int, source, name string, params map[string]any, errorCode string) {
		rec := map[string]any{
			"eventVersion": "1.08", "userIdentity": identity,
			"eventTime":   end.Add(-time.Duration(2*burstSize-i) * time.Second).UTC().Format(time.RFC3339),
			"eventSource": source, "eventName": name, "awsRegion": "us-east-1",
			"sourceIPAddress": fmt.Sprintf("198.51.100.%d", 1+who), "userAgent": "aws-cli/2.15.0",
			"requestParameters": params, "responseElements": nil,
			"requestID": fmt.Sprintf("burst-%d-%d", n, i), "eventID": fmt.Sprintf("00000000-0000-4000-9000-%06d%06d", n%1e6, i),
			"readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
			"recipientAccountId": account, "eventCategory": "Management",
		}
		if errorCode != "" {
			rec["errorCode"] = errorCode
			rec["errorMessage"] = "User: arn:aws:iam::" + account + ":user/" + user + " is not authorized to perform: " + name
		}
		b, _ := json.Marshal(rec) // maps of strings, numbers and nil always encode
		out = append(out, b)
	}
	for i := range burstSize {
		// A secret id new to the principal in each burst, so the distinct
		// count starts over whichever burst came before.
		add(i, "secretsmanager.amazonaws.com", "GetSecretValue",
			map[string]any{"secretId": fmt.Sprintf("prod/app-%d/secret-%d", n, i)}, "")
	}
	for i, a := range deniedActions[:burstSize] {
		add(burstSize+i, a.source, a.name, nil, a.code)
	}
	return out
}

// withBurst is a delivery file of the usual 59 records in us-east-1 for the
// window ending at end, with burst n's records after them.
func withBurst(g *gen.Generator, n int, end time.Time) gen.File {
	raw := g.AppendLog(nil, 59, "us-east-1", end.Add(-gen.Delivery), end)
	raw = raw[:len(raw)-len("]}")]
	burst := burstRecords(n, g.Account(), end)
	for _, r := range burst {
		raw = append(append(raw, ','), r...)
	}
	raw = append(raw, "]}"...)
	end = end.UTC()
	key := fmt.Sprintf("AWSLogs/%[1]s/CloudTrail/us-east-1/%[2]s/%[1]s_CloudTrail_us-east-1_%[3]s_burst%08[4]d.json.gz",
		g.Account(), end.Format("2006/01/02"), end.Format("20060102T1504Z"), n)
	return gen.File{Key: key, Region: "us-east-1", Records: 59 + len(burst), Size: len(raw), Data: gen.Gzip(raw)}
}
