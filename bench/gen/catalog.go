package gen

import (
	"strings"
)

// call is one API action of a service as the generator writes it.
type call struct {
	name     string
	readOnly bool
	weight   int
	req      func(g *Generator, e *enc, c *ctx) // nil: "requestParameters": null
	resp     func(g *Generator, e *enc, c *ctx) // nil: "responseElements": null
}

// service is one AWS service with the calls an account makes to it.
type service struct {
	source  string // eventSource
	weight  int    // share of ordinary API calls
	global  bool   // logged in us-east-1 only
	version string // eventVersion its records carry
	// deniedCode is the errorCode of a call refused for lack of permission:
	// AccessDenied (query/REST-XML), AccessDeniedException (JSON protocols) or
	// Client.UnauthorizedOperation (EC2).
	deniedCode string
	reads      []call
	writes     []call
	total      [2]int // summed weights of reads, writes
}

// ctx is what a call's parameter writers may need to know.
type ctx struct {
	region  string
	account string
	svc     *service
	call    *call
	when    string // eventTime
}

func (c *ctx) host() string {
	name := strings.TrimSuffix(c.svc.source, ".amazonaws.com")
	switch name {
	case "iam", "sts":
		if name == "sts" && c.region != "us-east-1" {
			return "sts." + c.region + ".amazonaws.com"
		}
		return name + ".amazonaws.com"
	case "monitoring":
		return "monitoring." + c.region + ".amazonaws.com"
	}
	return name + "." + c.region + ".amazonaws.com"
}

func (c *ctx) arn(svc, resource string) string {
	return "arn:aws:" + svc + ":" + c.region + ":" + c.account + ":" + resource
}

// Parameter writers shared by many calls.

func pEmpty(_ *Generator, e *enc, _ *ctx) { e.open(); e.close() }

func pEC2Filter(g *Generator, e *enc, c *ctx) {
	e.open()
	switch g.intn(3) {
	case 0:
		e.kobj("instancesSet")
		e.karr("items")
		e.open()
		e.kstr("instanceId", g.ec2ID("i-"))
		e.close()
		e.end()
		e.close()
		e.kobj("filterSet")
		e.close()
	case 1:
		e.kobj("filterSet")
		e.karr("items")
		e.open()
		e.kstr("name", "vpc-id")
		e.kobj("valueSet")
		e.karr("items")
		e.open()
		e.kstr("value", g.pick(g.vpcs))
		e.close()
		e.end()
		e.close()
		e.close()
		e.end()
		e.close()
	default:
		e.kbool("includeAllInstances", false)
		e.knum("maxResults", 1000)
	}
	e.close()
}

func pMaxResults(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.knum("maxResults", []int{20, 50, 100, 1000}[g.intn(4)])
	e.close()
}

func pBucket(g *Generator, e *enc, c *ctx) {
	b := g.pick(g.buckets)
	e.open()
	e.kv("bucketName", b, "Host", b+".s3."+c.region+".amazonaws.com")
	// S3 names the sub-resource asked for with an empty parameter: "acl": "".
	sub := strings.TrimPrefix(c.call.name, "GetBucket")
	e.kstr(strings.ToLower(sub[:1])+sub[1:], "")
	e.close()
}

func pRoleName(g *Generator, e *enc, _ *ctx) { e.obj("roleName", g.role().name) }
func pUserName(g *Generator, e *enc, _ *ctx) { e.obj("userName", g.user().name) }
func pPolicyArn(g *Generator, e *enc, c *ctx) {
	e.obj("policyArn", "arn:aws:iam::"+c.account+":policy/"+g.pick(policyNames))
}

func pKMSDecrypt(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
	if g.intn(2) == 0 {
		e.kobj("encryptionContext")
		e.kstr("aws:lambda:FunctionArn", c.arn("lambda", "function:"+g.pick(functions)))
		e.close()
	}
	e.close()
}

func pKeyID(g *Generator, e *enc, c *ctx) {
	e.obj("keyId", c.arn("kms", "key/"+g.uuid()))
}

func pKeySpec(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("keyId", "alias/"+g.pick(keyAliases))
	e.kstr("keySpec", "AES_256")
	e.close()
}

func pParameter(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("name", "/"+g.pick(apps)+"/"+g.pick(envs)+"/"+g.pick([]string{"db/host", "db/password", "api/key", "feature-flags", "endpoint"}))
	e.kbool("withDecryption", g.intn(3) > 0)
	e.close()
}

func pParameters(g *Generator, e *enc, _ *ctx) {
	e.open()
	app, env := g.pick(apps), g.pick(envs)
	e.kstrs("names", "/"+app+"/"+env+"/db/host", "/"+app+"/"+env+"/db/port", "/"+app+"/"+env+"/db/user")
	e.kbool("withDecryption", true)
	e.close()
}

func pSecret(g *Generator, e *enc, c *ctx) {
	e.obj("secretId", c.arn("secretsmanager", "secret:"+g.pick(apps)+"/"+g.pick(envs)+"/db-"+g.alnum(6)))
}

func pFunction(g *Generator, e *enc, _ *ctx) { e.obj("functionName", g.pick(functions)) }

func pLogGroup(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("logGroupName", "/aws/lambda/"+g.pick(functions))
	if g.intn(2) == 0 {
		e.kbool("descending", true)
		e.kstr("orderBy", "LastEventTime")
	}
	e.close()
}

func pCreateLogStream(g *Generator, e *enc, c *ctx) {
	e.obj("logGroupName", "/aws/lambda/"+g.pick(functions),
		"logStreamName", c.when[:10]+"/[$LATEST]"+g.hex(32))
}

func pTable(g *Generator, e *enc, _ *ctx) {
	e.obj("tableName", g.pick(apps)+"-"+g.pick(envs)+"-"+g.pick(tables))
}

func pDBInstance(g *Generator, e *enc, _ *ctx) {
	e.obj("dBInstanceIdentifier", g.pick(apps)+"-"+g.pick(envs)+"-db")
}

func pCluster(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("cluster", g.pick(envs)+"-cluster")
	e.kstrs("services", g.pick(apps)+"-svc")
	e.close()
}

func pStack(g *Generator, e *enc, _ *ctx) { e.obj("stackName", g.pick(apps)+"-"+g.pick(envs)) }

func pASG(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstrs("autoScalingGroupNames", g.pick(apps)+"-"+g.pick(envs)+"-asg")
	e.close()
}

func pTargetGroup(g *Generator, e *enc, c *ctx) {
	e.obj("targetGroupArn", c.arn("elasticloadbalancing", "targetgroup/"+g.pick(apps)+"-tg/"+g.hex(16)))
}

func pQueue(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("queueUrl", "https://sqs."+c.region+".amazonaws.com/"+c.account+"/"+g.pick(apps)+"-events")
	e.kstrs("attributeNames", "All")
	e.close()
}

func pTopic(g *Generator, e *enc, c *ctx) {
	e.obj("topicArn", c.arn("sns", g.pick(apps)+"-alerts"))
}

func pAlarms(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("alarmNamePrefix", g.pick(apps))
	e.knum("maxRecords", 100)
	e.close()
}

func pMetricData(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("startTime", c.when[:11]+"00:00:00Z")
	e.kstr("endTime", c.when)
	e.karr("metricDataQueries")
	e.open()
	e.kstr("id", "m1")
	e.kobj("metricStat")
	e.kobj("metric")
	e.kv("namespace", "AWS/EC2", "metricName", "CPUUtilization")
	e.close()
	e.knum("period", 300)
	e.kstr("stat", "Average")
	e.close()
	e.close()
	e.end()
	e.close()
}

func pUpdateInstanceInformation(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kv("instanceId", g.ec2ID("i-"), "agentVersion", "3.3.40.0", "agentStatus", "Active",
		"platformType", "Linux", "platformName", "Amazon Linux", "platformVersion", "2023",
		"iPAddress", g.privateIP(), "computerName", "ip-"+strings.ReplaceAll(g.privateIP(), ".", "-")+".ec2.internal",
		"agentName", "amazon-ssm-agent")
	e.close()
}

func pCreateTags(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kobj("resourcesSet")
	e.karr("items")
	e.obj("resourceId", g.ec2ID("i-"))
	e.end()
	e.close()
	e.kobj("tagSet")
	e.karr("items")
	e.obj("key", "Name", "value", g.pick(apps)+"-"+g.pick(envs))
	e.obj("key", "team", "value", g.pick(teams))
	e.end()
	e.close()
	e.close()
}

func rEC2Return(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("requestId", g.uuid())
	e.kbool("_return", true)
	e.close()
}

func pInstances(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kobj("instancesSet")
	e.karr("items")
	e.obj("instanceId", g.ec2ID("i-"))
	e.end()
	e.close()
	e.close()
}

func rTerminate(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("requestId", g.uuid())
	e.kobj("instancesSet")
	e.karr("items")
	e.open()
	e.kstr("instanceId", g.ec2ID("i-"))
	e.kobj("currentState")
	e.knum("code", 32)
	e.kstr("name", "shutting-down")
	e.close()
	e.kobj("previousState")
	e.knum("code", 16)
	e.kstr("name", "running")
	e.close()
	e.close()
	e.end()
	e.close()
	e.close()
}

func pUpdateService(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("cluster", g.pick(envs)+"-cluster")
	e.kstr("service", g.pick(apps)+"-svc")
	e.knum("desiredCount", 1+g.intn(6))
	e.kbool("forceNewDeployment", g.intn(2) == 0)
	e.close()
}

func pSetDesired(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("autoScalingGroupName", g.pick(apps)+"-"+g.pick(envs)+"-asg")
	e.knum("desiredCapacity", 2+g.intn(8))
	e.kbool("honorCooldown", false)
	e.close()
}

func pUpdateFunction(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("functionName", g.pick(functions))
	e.knum("timeout", 30+30*g.intn(4))
	e.knum("memorySize", 128<<g.intn(4))
	e.close()
}

func pChangeSet(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kv("stackName", g.pick(apps)+"-"+g.pick(envs), "changeSetName", "terraform-"+g.alnum(10), "changeSetType", "UPDATE")
	e.kstrs("capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")
	e.close()
}

func pPutItemTTL(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("tableName", g.pick(apps)+"-"+g.pick(envs)+"-"+g.pick(tables))
	e.kobj("timeToLiveSpecification")
	e.kbool("enabled", true)
	e.kstr("attributeName", "expiresAt")
	e.close()
	e.close()
}

func pPutBucketTagging(g *Generator, e *enc, c *ctx) {
	b := g.pick(g.buckets)
	e.open()
	e.kv("bucketName", b, "Host", b+".s3."+c.region+".amazonaws.com")
	e.kobj("Tagging")
	e.kstr("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")
	e.kobj("TagSet")
	e.kobj("Tag")
	e.kv("Key", "team", "Value", g.pick(teams))
	e.close()
	e.close()
	e.close()
	e.kstr("tagging", "")
	e.close()
}

func pAssumeRole(g *Generator, e *enc, c *ctx) {
	r := g.role()
	e.open()
	e.kstr("roleArn", "arn:aws:iam::"+c.account+":role/"+r.name)
	e.kstr("roleSessionName", g.sessionName(r))
	e.knum("durationSeconds", 3600)
	e.close()
}

func rAssumeRole(g *Generator, e *enc, c *ctx) {
	r := g.role()
	e.open()
	e.kobj("credentials")
	e.kstr("accessKeyId", "ASIA"+g.upper(16))
	e.kstr("sessionToken", g.token())
	e.kstr("expiration", displayTime(c.when, 3600))
	e.close()
	e.kobj("assumedRoleUser")
	e.kstr("assumedRoleId", r.id+":"+g.sessionName(r))
	e.kstr("arn", "arn:aws:sts::"+c.account+":assumed-role/"+r.name+"/"+g.sessionName(r))
	e.close()
	e.close()
}

var (
	apps        = []string{"checkout", "payments", "catalog", "search", "billing", "auth", "reports", "ingest"}
	envs        = []string{"prod", "staging", "dev"}
	teams       = []string{"platform", "data", "web", "sre", "security"}
	tables      = []string{"orders", "sessions", "users", "events", "locks"}
	functions   = []string{"checkout-worker", "thumbnailer", "nightly-report", "log-shipper", "slack-notifier", "cost-explorer-export"}
	keyAliases  = []string{"aws/s3", "aws/ebs", "aws/secretsmanager", "app-data", "backups"}
	policyNames = []string{"ReadOnlyS3Reports", "DeployerBoundary", "CIArtifacts", "LambdaBasicExecution", "KMSDecryptAppData"}
)

// services lists the ordinary API traffic of an account: mostly Describe*,
// List* and Get* calls, with the writes that usually go with them. The calls
// the shipped rules look for (security group, IAM policy, trail changes…) are
// written by Generator.cisChange, not drawn from here.
var services = []*service{
	{source: "ec2.amazonaws.com", weight: 180, version: "1.09", deniedCode: "Client.UnauthorizedOperation",
		reads: []call{
			{name: "DescribeInstances", weight: 30, req: pEC2Filter},
			{name: "DescribeSecurityGroups", weight: 10, req: pEC2Filter},
			{name: "DescribeVolumes", weight: 8, req: pEC2Filter},
			{name: "DescribeSubnets", weight: 6, req: pEC2Filter},
			{name: "DescribeVpcs", weight: 5, req: pEC2Filter},
			{name: "DescribeNetworkInterfaces", weight: 8, req: pEC2Filter},
			{name: "DescribeInstanceStatus", weight: 10, req: pEC2Filter},
			{name: "DescribeImages", weight: 4, req: pEC2Filter},
			{name: "DescribeRegions", weight: 4, req: pEmpty},
			{name: "DescribeAddresses", weight: 3, req: pEC2Filter},
			{name: "DescribeTags", weight: 6, req: pEC2Filter},
			{name: "DescribeSnapshots", weight: 3, req: pMaxResults},
		},
		writes: []call{
			{name: "CreateTags", weight: 6, req: pCreateTags, resp: rEC2Return},
			{name: "TerminateInstances", weight: 1, req: pInstances, resp: rTerminate},
			{name: "StopInstances", weight: 1, req: pInstances, resp: rTerminate},
		}},
	{source: "s3.amazonaws.com", weight: 90, version: "1.09", deniedCode: "AccessDenied",
		reads: []call{
			{name: "ListBuckets", weight: 6, req: pEmpty},
			{name: "GetBucketAcl", weight: 8, req: pBucket},
			{name: "GetBucketPolicy", weight: 6, req: pBucket},
			{name: "GetBucketLocation", weight: 10, req: pBucket},
			{name: "GetBucketVersioning", weight: 5, req: pBucket},
			{name: "GetBucketEncryption", weight: 5, req: pBucket},
			{name: "GetBucketTagging", weight: 5, req: pBucket},
			{name: "GetBucketPublicAccessBlock", weight: 4, req: pBucket},
		},
		writes: []call{
			{name: "PutBucketTagging", weight: 1, req: pPutBucketTagging},
		}},
	{source: "iam.amazonaws.com", weight: 60, global: true, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "GetUser", weight: 6, req: pUserName},
			{name: "ListUsers", weight: 3},
			{name: "ListRoles", weight: 4, req: pMaxResults},
			{name: "GetRole", weight: 8, req: pRoleName},
			{name: "ListAttachedRolePolicies", weight: 6, req: pRoleName},
			{name: "ListRolePolicies", weight: 4, req: pRoleName},
			{name: "GetPolicy", weight: 4, req: pPolicyArn},
			{name: "GetPolicyVersion", weight: 3, req: pPolicyArn},
			{name: "ListAccessKeys", weight: 3, req: pUserName},
			{name: "GetAccountSummary", weight: 1},
			{name: "ListMFADevices", weight: 2, req: pUserName},
		}},
	{source: "sts.amazonaws.com", weight: 90, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "AssumeRole", weight: 10, req: pAssumeRole, resp: rAssumeRole},
			{name: "GetCallerIdentity", weight: 8},
			{name: "GetSessionToken", weight: 1, req: pEmpty},
		}},
	{source: "kms.amazonaws.com", weight: 110, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "Decrypt", weight: 20, req: pKMSDecrypt},
			{name: "GenerateDataKey", weight: 10, req: pKeySpec},
			{name: "DescribeKey", weight: 4, req: pKeyID},
			{name: "ListAliases", weight: 2, req: pEmpty},
			{name: "Encrypt", weight: 2, req: pKeyID},
		}},
	{source: "ssm.amazonaws.com", weight: 90, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "GetParameter", weight: 10, req: pParameter},
			{name: "GetParameters", weight: 6, req: pParameters},
			{name: "DescribeInstanceInformation", weight: 3, req: pMaxResults},
			{name: "ListCommands", weight: 1, req: pMaxResults},
			{name: "GetParametersByPath", weight: 3, req: pParameter},
		},
		writes: []call{
			{name: "UpdateInstanceInformation", weight: 12, req: pUpdateInstanceInformation},
		}},
	{source: "secretsmanager.amazonaws.com", weight: 40, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "GetSecretValue", weight: 10, req: pSecret},
			{name: "DescribeSecret", weight: 4, req: pSecret},
			{name: "ListSecrets", weight: 1, req: pMaxResults},
		}},
	{source: "lambda.amazonaws.com", weight: 30, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "ListFunctions20150331", weight: 4},
			{name: "GetFunction20150331v2", weight: 5, req: pFunction},
			{name: "GetPolicy20150331v2", weight: 2, req: pFunction},
		},
		writes: []call{
			{name: "UpdateFunctionConfiguration20150331v2", weight: 1, req: pUpdateFunction},
		}},
	{source: "monitoring.amazonaws.com", weight: 50, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "DescribeAlarms", weight: 8, req: pAlarms},
			{name: "GetMetricData", weight: 10, req: pMetricData},
			{name: "ListMetrics", weight: 3, req: pEmpty},
		}},
	{source: "logs.amazonaws.com", weight: 50, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "DescribeLogGroups", weight: 6, req: pEmpty},
			{name: "DescribeLogStreams", weight: 6, req: pLogGroup},
			{name: "FilterLogEvents", weight: 3, req: pLogGroup},
		},
		writes: []call{
			{name: "CreateLogStream", weight: 6, req: pCreateLogStream},
		}},
	{source: "dynamodb.amazonaws.com", weight: 30, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "DescribeTable", weight: 10, req: pTable},
			{name: "ListTables", weight: 3, req: pEmpty},
			{name: "DescribeContinuousBackups", weight: 2, req: pTable},
			{name: "DescribeTimeToLive", weight: 2, req: pTable},
		},
		writes: []call{
			{name: "UpdateTimeToLive", weight: 1, req: pPutItemTTL},
		}},
	{source: "rds.amazonaws.com", weight: 25, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "DescribeDBInstances", weight: 8, req: pDBInstance},
			{name: "DescribeDBClusters", weight: 3, req: pEmpty},
			{name: "DescribeDBSnapshots", weight: 2, req: pDBInstance},
		}},
	{source: "elasticloadbalancing.amazonaws.com", weight: 25, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "DescribeLoadBalancers", weight: 5, req: pEmpty},
			{name: "DescribeTargetGroups", weight: 5, req: pEmpty},
			{name: "DescribeTargetHealth", weight: 8, req: pTargetGroup},
		}},
	{source: "autoscaling.amazonaws.com", weight: 20, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "DescribeAutoScalingGroups", weight: 8, req: pASG},
			{name: "DescribeScalingActivities", weight: 3, req: pASG},
		},
		writes: []call{
			{name: "SetDesiredCapacity", weight: 1, req: pSetDesired},
		}},
	{source: "cloudformation.amazonaws.com", weight: 20, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "DescribeStacks", weight: 8, req: pStack},
			{name: "ListStacks", weight: 2, req: pEmpty},
			{name: "DescribeStackEvents", weight: 5, req: pStack},
			{name: "GetTemplate", weight: 2, req: pStack},
		},
		writes: []call{
			{name: "CreateChangeSet", weight: 1, req: pChangeSet},
		}},
	{source: "ecs.amazonaws.com", weight: 30, version: "1.08", deniedCode: "AccessDeniedException",
		reads: []call{
			{name: "DescribeServices", weight: 8, req: pCluster},
			{name: "ListTasks", weight: 5, req: pCluster},
			{name: "DescribeTasks", weight: 5, req: pCluster},
			{name: "ListClusters", weight: 2, req: pEmpty},
		},
		writes: []call{
			{name: "UpdateService", weight: 1, req: pUpdateService},
		}},
	{source: "sqs.amazonaws.com", weight: 15, version: "1.08", deniedCode: "AccessDenied",
		reads: []call{
			{name: "GetQueueAttributes", weight: 6, req: pQueue},
			{name: "ListQueues", weight: 2, req: pEmpty},
		}},
	{source: "sns.amazonaws.com", weight: 10, version: "1.08", deniedCode: "AuthorizationError",
		reads: []call{
			{name: "ListTopics", weight: 2, req: pEmpty},
			{name: "GetTopicAttributes", weight: 4, req: pTopic},
		}},
}

// opsworksCalls are the 19 actions of opsworks-cm.amazonaws.com.
var opsworksCalls = []call{
	{name: "DescribeServers", readOnly: true, weight: 30, req: pOpsServerOpt},
	{name: "DescribeBackups", readOnly: true, weight: 12, req: pOpsServerOpt},
	{name: "DescribeEvents", readOnly: true, weight: 12, req: pOpsServer},
	{name: "DescribeAccountAttributes", readOnly: true, weight: 6},
	{name: "DescribeNodeAssociationStatus", readOnly: true, weight: 8, req: pOpsNodeStatus},
	{name: "ListTagsForResource", readOnly: true, weight: 6, req: pOpsResource},
	{name: "AssociateNode", weight: 5, req: pOpsNode, resp: rOpsNodeToken},
	{name: "DisassociateNode", weight: 3, req: pOpsNode, resp: rOpsNodeToken},
	{name: "CreateBackup", weight: 3, req: pOpsCreateBackup, resp: rOpsBackup},
	{name: "DeleteBackup", weight: 1, req: pOpsBackupID},
	{name: "CreateServer", weight: 2, req: pOpsCreateServer, resp: rOpsServer},
	{name: "DeleteServer", weight: 1, req: pOpsServer},
	{name: "RestoreServer", weight: 1, req: pOpsRestore},
	{name: "StartMaintenance", weight: 1, req: pOpsServer, resp: rOpsServer},
	{name: "UpdateServer", weight: 2, req: pOpsUpdateServer, resp: rOpsServer},
	{name: "UpdateServerEngineAttributes", weight: 1, req: pOpsEngineAttr, resp: rOpsServer},
	{name: "ExportServerEngineAttribute", weight: 1, req: pOpsExport, resp: rOpsExport},
	{name: "TagResource", weight: 2, req: pOpsTag},
	{name: "UntagResource", weight: 1, req: pOpsUntag},
}

// OpsWorksActions lists the 19 opsworks-cm actions the generator writes.
func OpsWorksActions() []string {
	out := make([]string, len(opsworksCalls))
	for i, c := range opsworksCalls {
		out[i] = c.name
	}
	return out
}

func opsServerName(g *Generator) string {
	return g.pick([]string{"chef-prod", "chef-staging", "puppet-prod", "OpsChef-test-server"})
}

func opsServerArn(g *Generator, c *ctx, name string) string {
	return c.arn("opsworks-cm", "server/"+name+"/"+g.uuid())
}

func pOpsServer(g *Generator, e *enc, _ *ctx) { e.obj("serverName", opsServerName(g)) }

func pOpsServerOpt(g *Generator, e *enc, _ *ctx) {
	if g.intn(3) == 0 {
		e.open()
		e.close()
		return
	}
	e.obj("serverName", opsServerName(g))
}

func pOpsNodeStatus(g *Generator, e *enc, _ *ctx) {
	e.obj("nodeAssociationStatusToken", g.token()[:64], "serverName", opsServerName(g))
}

func pOpsResource(g *Generator, e *enc, c *ctx) {
	e.obj("resourceArn", opsServerArn(g, c, opsServerName(g)))
}

func pOpsNode(g *Generator, e *enc, _ *ctx) {
	name := opsServerName(g)
	e.open()
	e.kv("serverName", name, "nodeName", "node-"+g.ec2ID("i-"))
	e.karr("engineAttributes")
	if strings.HasPrefix(name, "puppet") {
		e.obj("name", "PUPPET_NODE_CSR", "value", "*** Redacted ***")
	} else {
		e.obj("name", "CHEF_ORGANIZATION", "value", "default")
		e.obj("name", "CHEF_NODE_PUBLIC_KEY", "value", "*** Redacted ***")
	}
	e.end()
	e.close()
}

func rOpsNodeToken(g *Generator, e *enc, _ *ctx) {
	e.obj("nodeAssociationStatusToken", g.token()[:64])
}

func pOpsCreateBackup(g *Generator, e *enc, _ *ctx) {
	e.obj("serverName", opsServerName(g), "description", "pre-upgrade backup")
}

func rOpsBackup(g *Generator, e *enc, c *ctx) {
	name := opsServerName(g)
	e.open()
	e.kobj("backup")
	e.kv("backupId", name+"-"+c.when[:10]+"T"+g.digits(6)+"Z", "backupType", "MANUAL", "createdAt", displayTime(c.when, 0),
		"description", "pre-upgrade backup", "engine", "ChefAutomate", "serverName", name, "status", "IN_PROGRESS")
	e.close()
	e.close()
}

func pOpsBackupID(g *Generator, e *enc, c *ctx) {
	e.obj("backupId", opsServerName(g)+"-"+c.when[:10]+"T"+g.digits(6)+"Z")
}

func pOpsRestore(g *Generator, e *enc, c *ctx) {
	name := opsServerName(g)
	e.obj("backupId", name+"-"+c.when[:10]+"T"+g.digits(6)+"Z", "serverName", name, "instanceType", "m5.large")
}

func pOpsCreateServer(g *Generator, e *enc, c *ctx) {
	name := opsServerName(g)
	chef := !strings.HasPrefix(name, "puppet")
	e.open()
	e.kv("serverName", name, "engineModel", "Single")
	if chef {
		e.kv("engine", "ChefAutomate", "engineVersion", "2")
	} else {
		e.kv("engine", "Puppet", "engineVersion", "2019")
	}
	e.kstr("instanceProfileArn", "arn:aws:iam::"+c.account+":instance-profile/aws-opsworks-cm-ec2-role")
	e.knum("backupRetentionCount", 1+g.intn(10))
	e.kstr("serviceRoleArn", "arn:aws:iam::"+c.account+":role/service-role/aws-opsworks-cm-service-role")
	e.kv("preferredMaintenanceWindow", "Fri:21:00", "instanceType", "m5.large", "preferredBackupWindow", "Wed:08:00")
	e.kstrs("subnetIds", "subnet-"+g.hex(17))
	if g.intn(4) == 0 {
		e.kbool("disableAutomatedBackup", true)
	}
	if g.intn(3) == 0 {
		e.kbool("associatePublicIpAddress", true)
	}
	e.close()
}

func rOpsServer(g *Generator, e *enc, c *ctx) {
	name := opsServerName(g)
	e.open()
	e.kobj("server")
	e.kv("endpoint", name+"-"+g.alnum(16)+"."+c.region+".opsworks-cm.io", "createdAt", displayTime(c.when, 0),
		"serviceRoleArn", "arn:aws:iam::"+c.account+":role/service-role/aws-opsworks-cm-service-role",
		"preferredBackupWindow", "Wed:08:00", "status", "CREATING")
	e.kstrs("subnetIds", "subnet-"+g.hex(17))
	e.kv("engine", "ChefAutomate", "instanceType", "m5.large", "serverName", name, "serverArn", opsServerArn(g, c, name),
		"engineModel", "Single")
	e.knum("backupRetentionCount", 3)
	e.karr("engineAttributes")
	e.obj("name", "CHEF_AUTOMATE_PIVOTAL_KEY", "value", "*** Redacted ***")
	e.obj("name", "CHEF_AUTOMATE_ADMIN_PASSWORD", "value", "*** Redacted ***")
	e.end()
	e.kv("engineVersion", "2", "instanceProfileArn", "arn:aws:iam::"+c.account+":instance-profile/aws-opsworks-cm-ec2-role",
		"preferredMaintenanceWindow", "Fri:21:00")
	e.close()
	e.close()
}

func pOpsUpdateServer(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("serverName", opsServerName(g))
	if g.intn(3) == 0 {
		e.kbool("disableAutomatedBackup", true)
	} else {
		e.knum("backupRetentionCount", 3+g.intn(20))
	}
	e.close()
}

func pOpsEngineAttr(g *Generator, e *enc, _ *ctx) {
	e.obj("serverName", opsServerName(g), "attributeName", "CHEF_PIVOTAL_KEY", "attributeValue", "*** Redacted ***")
}

func pOpsExport(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kv("exportAttributeName", "Userdata", "serverName", opsServerName(g))
	e.karr("inputAttributes")
	e.obj("name", "RunList", "value", "recipe[base]")
	e.obj("name", "OrganizationName", "value", "default")
	e.end()
	e.close()
}

func rOpsExport(g *Generator, e *enc, _ *ctx) {
	e.obj("engineAttribute", "*** Redacted ***", "serverName", opsServerName(g))
}

func pOpsTag(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("resourceArn", opsServerArn(g, c, opsServerName(g)))
	e.karr("tags")
	e.obj("key", "team", "value", g.pick(teams))
	e.end()
	e.close()
}

func pOpsUntag(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("resourceArn", opsServerArn(g, c, opsServerName(g)))
	e.kstrs("tagKeys", "team")
	e.close()
}
