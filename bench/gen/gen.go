// Package gen writes synthetic CloudTrail records and log files shaped like one
// real AWS account's: mostly read-only Describe/List/Get calls by IAM users and
// assumed roles across 18 services, AWS services acting on the account's behalf,
// about 2% of calls refused (AccessDenied, Client.UnauthorizedOperation), 0.1%
// by the root user, 1% to opsworks-cm.amazonaws.com across its 19 actions,
// console sign-ins (some without MFA, some failed) and a sprinkling of the
// changes the CIS AWS Foundations alarms watch (security groups, IAM policies,
// routes, bucket policies).
//
// Records carry the fields CloudTrail writes, in its order: userIdentity with
// sessionContext and the string-valued mfaAuthenticated, sourceIPAddress that is
// sometimes a service name or "AWS Internal", requestParameters and
// responseElements (null where CloudTrail writes null), requestID, UUID eventIDs,
// readOnly, eventType, managementEvent, recipientAccountId, eventCategory,
// tlsDetails. Delivery files are gzip-compressed {"Records":[…]} documents named
// and sized as CloudTrail delivers them: one per region about every 5 minutes,
// from a few records to a few hundred.
//
// Everything is a function of the seed: the same Options give the same bytes.
package gen

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// Options configure a Generator. The zero value is usable.
type Options struct {
	// Seed chooses the data; the same seed gives the same bytes.
	Seed uint64
	// Account is the 12-digit AWS account id; default 123456789012.
	Account string
	// Start is when the first delivery window opens; default
	// 2024-03-04T00:00:00Z (OpsWorks CM was still in service then).
	Start time.Time
}

// DefaultStart is Options.Start's default.
var DefaultStart = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)

// The mix of records. Denied calls are drawn among the kinds a principal makes
// (API calls, opsworks-cm, CIS changes) so that they are 2% of all records.
const (
	shareRoot     = 0.001
	shareOpsWorks = 0.01
	shareConsole  = 0.004
	shareCIS      = 0.003
	shareService  = 0.12
	shareDenied   = 0.02
	shareAPI      = 1 - shareRoot - shareOpsWorks - shareConsole - shareCIS - shareService
	// probability that a deniable record is denied
	pDenied = shareDenied / (shareAPI + shareOpsWorks + shareCIS)
	// other failures of ordinary calls (throttling, not found)
	pOtherError = 0.01
	// ordinary calls that write, to services that have writes in the catalog
	// (about three quarters of the traffic): 8% of ordinary calls write
	pWrite = 0.11
)

// Kind is a class of record.
type Kind int

// The kinds of records, with their share of a log.
const (
	KindAPICall      Kind = iota // ordinary call by an IAM user or an assumed role (86%)
	KindServiceCall              // AWS service acting for the account: AssumeRole, KMS, service events (12%)
	KindConsoleLogin             // console sign-in: with MFA, without, SAML, failed (0.4%)
	KindCISChange                // a change a CIS alarm watches: security group, IAM policy, route, bucket policy (0.3%)
	KindOpsWorks                 // opsworks-cm.amazonaws.com, any of its 19 actions (1%)
	KindRoot                     // anything by the root user (0.1%)
	numKinds
)

func (k Kind) String() string {
	return [...]string{"api-call", "service-call", "console-login", "cis-change", "opsworks-cm", "root"}[k]
}

// Generator writes records. It is not safe for concurrent use.
type Generator struct {
	rng     *rand.Rand
	account string
	start   time.Time

	users   []*user
	roles   []*role
	buckets []string
	vpcs    []string

	svcWeight int
	e         enc
	lastKind  Kind
}

type user struct {
	name, id  string
	accessKey string // long-term key (AKIA…); "" for console-only people
	console   bool   // a person signing in to the console
	ips       []string
	agents    []string
}

type role struct {
	name, id string
	kind     string // instance, sso, ci, lambda
	ips      []string
	agents   []string
}

// New returns a Generator for opts.
func New(opts Options) *Generator {
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	g := &Generator{
		rng:     rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		account: opts.Account,
		start:   opts.Start.UTC(),
	}
	for _, s := range services {
		g.svcWeight += s.weight
		s.total = [2]int{}
		for _, c := range s.reads {
			s.total[0] += c.weight
		}
		for _, c := range s.writes {
			s.total[1] += c.weight
		}
	}
	g.population()
	return g
}

// Account is the account id the records belong to.
func (g *Generator) Account() string { return g.account }

// population draws the account's people, roles and resources from the seed.
func (g *Generator) population() {
	office := []string{"203.0.113." + g.itoa(10+g.intn(40)), "203.0.113." + g.itoa(60+g.intn(40))}
	home := func() []string {
		return []string{"198.51.100." + g.itoa(1+g.intn(250)), "192.0.2." + g.itoa(1+g.intn(250))}
	}
	nat := []string{"198.51.100." + g.itoa(1+g.intn(250)), "3.88." + g.itoa(g.intn(256)) + "." + g.itoa(1+g.intn(250))}
	ci := []string{"192.0.2." + g.itoa(1+g.intn(250)), "20.55." + g.itoa(g.intn(256)) + "." + g.itoa(1+g.intn(250))}
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	for _, p := range people {
		g.users = append(g.users, &user{name: p, console: true, ips: append(office[:1:1], home()...), agents: consoleAgents})
	}
	for _, p := range []string{"terraform", "ci-deploy", "backup-agent", "legacy-reporting"} {
		u := &user{name: p, accessKey: "AKIA" + g.upper(16), ips: ci, agents: sdkAgents}
		if p == "legacy-reporting" {
			u.ips = home()
		}
		if p == "backup-agent" {
			u.ips = nat
		}
		g.users = append(g.users, u)
	}
	for _, u := range g.users {
		u.id = "AIDA" + stableID(g.account+u.name)
	}
	roles := []*role{
		{name: "AWSReservedSSO_AdministratorAccess_" + g.hex(16), kind: "sso", ips: append(office, home()...), agents: consoleAgents},
		{name: "AWSReservedSSO_ReadOnlyAccess_" + g.hex(16), kind: "sso", ips: append(office, home()...), agents: consoleAgents},
		{name: "AWSReservedSSO_PowerUserAccess_" + g.hex(16), kind: "sso", ips: office, agents: cliAgents},
		{name: "github-actions-deploy", kind: "ci", ips: ci, agents: sdkAgents},
		{name: "eks-node-group-role", kind: "instance", ips: []string{"10.0." + g.itoa(g.intn(64)) + "." + g.itoa(1+g.intn(250)), nat[1]}, agents: sdkAgents},
		{name: "app-server-role", kind: "instance", ips: []string{"10.1." + g.itoa(g.intn(64)) + "." + g.itoa(1+g.intn(250)), nat[0]}, agents: sdkAgents},
		{name: "batch-worker-role", kind: "instance", ips: []string{"10.2." + g.itoa(g.intn(64)) + "." + g.itoa(1+g.intn(250))}, agents: sdkAgents},
		{name: "checkout-worker-lambda-role", kind: "lambda", ips: []string{"3.88." + g.itoa(g.intn(256)) + "." + g.itoa(1+g.intn(250))}, agents: lambdaAgents},
		{name: "log-shipper-lambda-role", kind: "lambda", ips: []string{"54.210." + g.itoa(g.intn(256)) + "." + g.itoa(1+g.intn(250))}, agents: lambdaAgents},
		{name: "OrganizationAccountAccessRole", kind: "sso", ips: office, agents: cliAgents},
	}
	for _, r := range roles {
		r.id = "AROA" + stableID(g.account+r.name)
	}
	g.roles = roles
	for _, b := range []string{"logs", "artifacts", "backups", "static-assets", "data-lake", "terraform-state"} {
		g.buckets = append(g.buckets, "acme-"+b+"-"+g.account[:6])
	}
	for range 3 {
		g.vpcs = append(g.vpcs, g.ec2ID("vpc-"))
	}
}

var (
	consoleAgents = []string{
		"AWS Internal",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
		"console.amazonaws.com",
	}
	cliAgents = []string{
		"aws-cli/2.15.25 Python/3.11.8 Linux/6.5.0-1015-aws exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",
		"aws-cli/2.15.21 Python/3.11.6 Darwin/23.3.0 exe/x86_64 prompt/off command/sts.get-caller-identity",
	}
	sdkAgents = []string{
		"Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux#5.10.209-198.858.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.54",
		"aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.149.3",
		"APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.39.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.1",
		"aws-sdk-java/2.25.1 Linux/5.10.209-198.858.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
		"aws-cli/2.15.25 Python/3.11.8 Linux/6.5.0-1015-aws exe/x86_64.ubuntu.22 prompt/off command/s3api.get-bucket-policy",
	}
	lambdaAgents = []string{
		"Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.209-219.861.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.1 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42",
		"aws-sdk-nodejs/3.523.0 linux/v20.11.1 exec-env/AWS_Lambda_nodejs20.x api/ssm#3.523.0",
	}
	tlsSuites = [][2]string{
		{"TLSv1.3", "TLS_AES_128_GCM_SHA256"},
		{"TLSv1.3", "TLS_AES_256_GCM_SHA384"},
		{"TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"},
	}
	// Services that assume roles and call APIs on the account's behalf.
	servicePrincipals = []string{"lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com",
		"ssm.amazonaws.com", "config.amazonaws.com", "cloudformation.amazonaws.com", "autoscaling.amazonaws.com",
		"elasticloadbalancing.amazonaws.com", "backup.amazonaws.com", "events.amazonaws.com"}
	// Regions, with their share of records and mean records per 5-minute
	// delivery file.
	regions = []struct {
		name  string
		share float64
		mean  float64
	}{
		{"us-east-1", 0.50, 140},
		{"us-west-2", 0.20, 60},
		{"eu-west-1", 0.15, 45},
		{"eu-central-1", 0.10, 20},
		{"ap-southeast-2", 0.05, 6},
	}
)

// Regions lists the regions the generator writes records for.
func Regions() []string {
	out := make([]string, len(regions))
	for i, r := range regions {
		out[i] = r.name
	}
	return out
}

// AppendRecord appends one record of the account's usual mix, in region at t.
func (g *Generator) AppendRecord(dst []byte, region string, t time.Time) []byte {
	return g.AppendKind(dst, g.drawKind(), region, t)
}

// LastKind is the kind of the record written last.
func (g *Generator) LastKind() Kind { return g.lastKind }

func (g *Generator) drawKind() Kind {
	r := g.rng.Float64()
	for _, k := range []struct {
		kind  Kind
		share float64
	}{{KindRoot, shareRoot}, {KindOpsWorks, shareOpsWorks}, {KindConsoleLogin, shareConsole}, {KindCISChange, shareCIS}, {KindServiceCall, shareService}} {
		if r < k.share {
			return k.kind
		}
		r -= k.share
	}
	return KindAPICall
}

// AppendKind appends one record of the given kind, in region at t.
func (g *Generator) AppendKind(dst []byte, kind Kind, region string, t time.Time) []byte {
	g.e = enc{b: dst}
	g.lastKind = kind
	when := t.UTC().Format("2006-01-02T15:04:05Z")
	switch kind {
	case KindServiceCall:
		g.serviceCall(region, when, t)
	case KindConsoleLogin:
		g.consoleLogin(when, t, g.user(), false)
	case KindCISChange:
		g.cisChange(region, when, t)
	case KindOpsWorks:
		g.opsworks(region, when, t)
	case KindRoot:
		g.root(region, when, t)
	default:
		g.apiCall(region, when, t)
	}
	return g.e.b
}

// actor is who made a call and from where.
type actor struct {
	typ       string // IAMUser, AssumedRole, Root, AWSService
	u         *user
	r         *role
	session   string
	keyID     string
	invokedBy string
	mfa       string // "true", "false", or "" (no sessionContext)
	created   time.Time
	console   bool // a console session (sessionCredentialFromConsole)
	ip, agent string
	vpce      string
}

func (g *Generator) personActor(t time.Time) *actor {
	if g.intn(100) < 45 {
		u := g.user()
		a := &actor{typ: "IAMUser", u: u, ip: g.pick(u.ips), agent: g.pick(u.agents)}
		if u.console {
			a.keyID, a.console, a.mfa = "ASIA"+g.upper(16), true, "true"
			if g.intn(10) == 0 {
				a.mfa = "false"
			}
			a.created = t.Add(-time.Duration(g.intn(8*3600)) * time.Second)
		} else {
			a.keyID = u.accessKey
		}
		return a
	}
	r := g.role()
	a := &actor{typ: "AssumedRole", r: r, session: g.sessionName(r), keyID: "ASIA" + g.upper(16), mfa: "false",
		created: t.Add(-time.Duration(g.intn(3600)) * time.Second), ip: g.pick(r.ips), agent: g.pick(r.agents)}
	if r.kind == "sso" {
		a.console = a.agent == "AWS Internal" || strings.HasPrefix(a.agent, "Mozilla") || a.agent == "console.amazonaws.com"
	}
	if r.kind == "instance" && strings.HasPrefix(a.ip, "10.") {
		a.vpce = "vpce-0" + g.hex(16)
	}
	if g.intn(50) == 0 {
		// Calls a service makes with the caller's credentials (CloudFormation
		// creating a stack's resources, say).
		svc := g.pick([]string{"cloudformation.amazonaws.com", "elasticmapreduce.amazonaws.com", "athena.amazonaws.com"})
		a.invokedBy, a.ip, a.agent = svc, svc, svc
	} else if g.intn(50) == 0 {
		a.ip, a.agent = "AWS Internal", "AWS Internal"
	}
	return a
}

func (g *Generator) sessionName(r *role) string {
	switch r.kind {
	case "instance":
		return g.ec2ID("i-")
	case "sso":
		return g.pick([]string{"alice", "bob", "carol", "dave", "erin", "frank"}) + "@example.com"
	case "ci":
		return "GitHubActions"
	case "lambda":
		return strings.TrimSuffix(r.name, "-lambda-role")
	}
	return "session-" + g.digits(10)
}

// writeIdentity writes "userIdentity":{…}.
func (g *Generator) writeIdentity(a *actor) {
	e := &g.e
	e.kobj("userIdentity")
	switch a.typ {
	case "AWSService":
		e.kstr("type", "AWSService")
		e.kstr("invokedBy", a.invokedBy)
		e.close()
		return
	case "IAMUser":
		e.kv("type", "IAMUser", "principalId", a.u.id, "arn", "arn:aws:iam::"+g.account+":user/"+a.u.name,
			"accountId", g.account, "accessKeyId", a.keyID, "userName", a.u.name)
	case "Root":
		e.kv("type", "Root", "principalId", g.account, "arn", "arn:aws:iam::"+g.account+":root", "accountId", g.account)
		if a.keyID != "" {
			e.kstr("accessKeyId", a.keyID)
		}
	case "AssumedRole":
		e.kv("type", "AssumedRole", "principalId", a.r.id+":"+a.session,
			"arn", "arn:aws:sts::"+g.account+":assumed-role/"+a.r.name+"/"+a.session,
			"accountId", g.account, "accessKeyId", a.keyID)
	}
	if a.mfa != "" {
		e.kobj("sessionContext")
		e.kobj("sessionIssuer")
		if a.typ == "AssumedRole" {
			e.kv("type", "Role", "principalId", a.r.id, "arn", "arn:aws:iam::"+g.account+":role/"+a.r.name,
				"accountId", g.account, "userName", a.r.name)
		}
		e.close()
		e.kobj("webIdFederationData")
		e.close()
		e.kobj("attributes")
		e.kv("creationDate", a.created.UTC().Format("2006-01-02T15:04:05Z"), "mfaAuthenticated", a.mfa)
		e.close()
		e.close()
	}
	if a.invokedBy != "" {
		e.kstr("invokedBy", a.invokedBy)
	}
	e.close()
}

// header writes the fields up to userAgent.
func (g *Generator) header(version string, a *actor, when, source, name, region string) {
	e := &g.e
	e.open()
	e.kstr("eventVersion", version)
	g.writeIdentity(a)
	e.kv("eventTime", when, "eventSource", source, "eventName", name, "awsRegion", region,
		"sourceIPAddress", a.ip, "userAgent", a.agent)
}

// trailer writes the fields after responseElements.
func (g *Generator) trailer(a *actor, readOnly bool, eventType, host string, extra func()) {
	e := &g.e
	if eventType != "AwsServiceEvent" {
		e.kstr("requestID", g.requestID(host))
	}
	e.kstr("eventID", g.uuid())
	e.kbool("readOnly", readOnly)
	if extra != nil {
		extra()
	}
	e.kstr("eventType", eventType)
	e.kbool("managementEvent", true)
	e.kstr("recipientAccountId", g.account)
	if a.vpce != "" {
		e.kstr("vpcEndpointId", a.vpce)
		e.kstr("vpcEndpointAccountId", g.account)
	}
	e.kstr("eventCategory", "Management")
	if host != "" && a.ip != "AWS Internal" && a.invokedBy == "" && a.typ != "AWSService" {
		s := tlsSuites[g.intn(len(tlsSuites))]
		e.kobj("tlsDetails")
		e.kv("tlsVersion", s[0], "cipherSuite", s[1], "clientProvidedHostHeader", host)
		e.close()
	}
	if a.console {
		e.kstr("sessionCredentialFromConsole", "true")
	}
	e.close()
}

func (g *Generator) requestID(host string) string {
	if strings.HasPrefix(host, "s3.") || strings.Contains(host, ".s3.") {
		return g.upperHex(16)
	}
	return g.uuid()
}

func (g *Generator) pickService(region string) *service {
	for {
		n := g.intn(g.svcWeight)
		for _, s := range services {
			if n < s.weight {
				if s.global && region != "us-east-1" {
					break // draw again: global services log to us-east-1
				}
				return s
			}
			n -= s.weight
		}
	}
}

func pickCall(g *Generator, calls []call, total int) *call {
	n := g.intn(total)
	for i := range calls {
		if n < calls[i].weight {
			return &calls[i]
		}
		n -= calls[i].weight
	}
	return &calls[len(calls)-1]
}

func (g *Generator) apiCall(region, when string, t time.Time) {
	s := g.pickService(region)
	c, readOnly := (*call)(nil), true
	if len(s.writes) > 0 && g.rng.Float64() < pWrite {
		c, readOnly = pickCall(g, s.writes, s.total[1]), false
	} else {
		c = pickCall(g, s.reads, s.total[0])
	}
	a := g.personActor(t)
	g.call(s.source, s.version, s.deniedCode, c, readOnly, a, region, when, g.rng.Float64() < pDenied)
}

// call writes an ordinary API call record.
func (g *Generator) call(source, version, deniedCode string, c *call, readOnly bool, a *actor, region, when string, denied bool) {
	e := &g.e
	cx := &ctx{region: region, account: g.account, call: c, when: when,
		svc: &service{source: source}}
	g.header(version, a, when, source, c.name, region)
	failed := false
	switch {
	case denied:
		failed = true
		e.kstr("errorCode", deniedCode)
		svc := strings.TrimSuffix(source, ".amazonaws.com")
		principal := "arn:aws:iam::" + g.account + ":user/" + a.name()
		if a.typ == "AssumedRole" {
			principal = "arn:aws:sts::" + g.account + ":assumed-role/" + a.r.name + "/" + a.session
		}
		msg := "User: " + principal + " is not authorized to perform: " + svc + ":" + c.name +
			" because no identity-based policy allows the " + svc + ":" + c.name + " action"
		if deniedCode == "Client.UnauthorizedOperation" {
			msg = "You are not authorized to perform this operation. User: " + principal +
				" is not authorized to perform: ec2:" + c.name + " because no identity-based policy allows the ec2:" + c.name + " action"
		}
		e.kstr("errorMessage", msg)
	case g.rng.Float64() < pOtherError:
		failed = true
		code, msg := "ThrottlingException", "Rate exceeded"
		switch {
		case strings.HasPrefix(source, "ec2."):
			code, msg = "Client.RequestLimitExceeded", "Request limit exceeded."
		case strings.HasPrefix(source, "s3.") && c.name == "GetBucketPolicy":
			code, msg = "NoSuchBucketPolicy", "The bucket policy does not exist"
		case strings.HasPrefix(source, "iam."):
			code, msg = "NoSuchEntityException", "The role with name "+g.role().name+" cannot be found."
		case strings.HasPrefix(source, "ssm.") || strings.HasPrefix(source, "secretsmanager."):
			code, msg = "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
		}
		e.kstr("errorCode", code)
		e.kstr("errorMessage", msg)
	}
	e.key("requestParameters")
	if c.req == nil {
		e.null()
	} else {
		c.req(g, e, cx)
	}
	e.key("responseElements")
	if c.resp == nil || failed {
		e.null()
	} else {
		c.resp(g, e, cx)
	}
	g.trailer(a, readOnly, "AwsApiCall", cx.host(), nil)
}

func (a *actor) name() string {
	if a.u != nil {
		return a.u.name
	}
	return "unknown"
}

func (g *Generator) serviceCall(region, when string, t time.Time) {
	e := &g.e
	p := g.pick(servicePrincipals)
	switch n := g.intn(10); {
	case n < 6: // a service assumes its role
		a := &actor{typ: "AWSService", invokedBy: p, ip: p, agent: p}
		r := g.role()
		session := g.sessionName(r)
		if p != "lambda.amazonaws.com" {
			session = "aws-" + strings.TrimSuffix(p, ".amazonaws.com") + "-" + g.digits(19)
		}
		roleArn := "arn:aws:iam::" + g.account + ":role/" + r.name
		g.header("1.08", a, when, "sts.amazonaws.com", "AssumeRole", region)
		e.kobj("requestParameters")
		e.kv("roleArn", roleArn, "roleSessionName", session)
		e.knum("durationSeconds", 3600)
		e.close()
		e.kobj("responseElements")
		e.kobj("credentials")
		e.kv("accessKeyId", "ASIA"+g.upper(16), "sessionToken", g.token(), "expiration", displayTime(when, 3600))
		e.close()
		e.kobj("assumedRoleUser")
		e.kv("assumedRoleId", r.id+":"+session, "arn", "arn:aws:sts::"+g.account+":assumed-role/"+r.name+"/"+session)
		e.close()
		e.close()
		g.trailer(a, true, "AwsApiCall", "sts.amazonaws.com", func() {
			e.karr("resources")
			e.obj("accountId", g.account, "type", "AWS::IAM::Role", "ARN", roleArn)
			e.end()
			e.kstr("sharedEventID", g.uuid())
		})
	case n < 9: // a service uses KMS for a role of the account
		via := g.pick([]string{"secretsmanager.amazonaws.com", "s3.amazonaws.com", "ssm.amazonaws.com", "lambda.amazonaws.com", "dynamodb.amazonaws.com"})
		r := g.role()
		a := &actor{typ: "AssumedRole", r: r, session: g.sessionName(r), keyID: "ASIA" + g.upper(16), mfa: "false",
			created: t.Add(-time.Duration(g.intn(3600)) * time.Second), invokedBy: via, ip: via, agent: via}
		name := "Decrypt"
		if g.intn(3) == 0 {
			name = "GenerateDataKey"
		}
		keyArn := "arn:aws:kms:" + region + ":" + g.account + ":key/" + g.uuid()
		g.header("1.08", a, when, "kms.amazonaws.com", name, region)
		e.kobj("requestParameters")
		e.kobj("encryptionContext")
		switch via {
		case "secretsmanager.amazonaws.com":
			e.kstr("SecretARN", "arn:aws:secretsmanager:"+region+":"+g.account+":secret:"+g.pick(apps)+"/db-"+g.alnum(6))
			e.kstr("SecretVersionId", g.uuid())
		case "s3.amazonaws.com":
			e.kstr("aws:s3:arn", "arn:aws:s3:::"+g.pick(g.buckets)+"/"+g.pick(apps)+"/"+g.hex(12)+".parquet")
		default:
			e.kstr("aws:"+strings.TrimSuffix(via, ".amazonaws.com")+":arn", "arn:aws:"+strings.TrimSuffix(via, ".amazonaws.com")+":"+region+":"+g.account+":"+g.pick(apps))
		}
		e.close()
		e.kstr("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
		if name == "GenerateDataKey" {
			e.kstr("keySpec", "AES_256")
		}
		e.close()
		e.knull("responseElements")
		g.trailer(a, true, "AwsApiCall", "", func() {
			e.karr("resources")
			e.obj("accountId", g.account, "type", "AWS::KMS::Key", "ARN", keyArn)
			e.end()
		})
	default: // an event the service itself logs
		keyArn := "arn:aws:kms:" + region + ":" + g.account + ":key/" + g.uuid()
		e.open()
		e.kstr("eventVersion", "1.08")
		e.kobj("userIdentity")
		e.kv("accountId", g.account, "invokedBy", "kms.amazonaws.com")
		e.close()
		e.kv("eventTime", when, "eventSource", "kms.amazonaws.com", "eventName", "RotateKey", "awsRegion", region,
			"sourceIPAddress", "kms.amazonaws.com", "userAgent", "kms.amazonaws.com")
		e.knull("requestParameters")
		e.knull("responseElements")
		e.kstr("eventID", g.uuid())
		e.kbool("readOnly", false)
		e.karr("resources")
		e.obj("accountId", g.account, "type", "AWS::KMS::Key", "ARN", keyArn)
		e.end()
		e.kv("eventType", "AwsServiceEvent")
		e.kbool("managementEvent", true)
		e.kv("recipientAccountId", g.account, "sharedEventID", g.uuid())
		e.kobj("serviceEventDetails")
		e.kstr("keyId", keyArn[strings.LastIndexByte(keyArn, '/')+1:])
		e.close()
		e.kstr("eventCategory", "Management")
		e.close()
	}
}

// consoleLogin writes a ConsoleLogin: mostly IAM users with MFA, some without,
// SAML federated roles, and failed attempts. root makes it the root user's.
func (g *Generator) consoleLogin(when string, t time.Time, u *user, root bool) {
	e := &g.e
	ip := g.pick(u.ips)
	agent := consoleAgents[1+g.intn(2)]
	n := g.intn(100)
	failed := !root && n >= 90
	mfaUsed := "Yes"
	switch {
	case root:
	case n < 15: // an IAM user without MFA
		mfaUsed = "No"
	case n >= 60 && n < 90: // SAML
		mfaUsed = "No"
	case failed:
		mfaUsed = "No"
	}
	saml := !root && n >= 60 && n < 90
	e.open()
	e.kstr("eventVersion", "1.09")
	e.kobj("userIdentity")
	switch {
	case root:
		e.kv("type", "Root", "principalId", g.account, "arn", "arn:aws:iam::"+g.account+":root", "accountId", g.account, "accessKeyId", "")
	case saml:
		r := g.roles[g.intn(2)]
		s := g.sessionName(r)
		e.kv("type", "AssumedRole", "principalId", r.id+":"+s, "arn", "arn:aws:sts::"+g.account+":assumed-role/"+r.name+"/"+s,
			"accountId", g.account)
	case failed:
		// A failed sign-in names the user typed, not an ARN.
		e.kv("type", "IAMUser", "principalId", "", "accountId", g.account, "accessKeyId", "", "userName", u.name)
	default:
		e.kv("type", "IAMUser", "principalId", u.id, "arn", "arn:aws:iam::"+g.account+":user/"+u.name,
			"accountId", g.account, "accessKeyId", "", "userName", u.name)
	}
	e.close()
	e.kv("eventTime", when, "eventSource", "signin.amazonaws.com", "eventName", "ConsoleLogin", "awsRegion", "us-east-1",
		"sourceIPAddress", ip, "userAgent", agent)
	if failed {
		e.kstr("errorMessage", "Failed authentication")
	}
	e.knull("requestParameters")
	e.kobj("responseElements")
	if failed {
		e.kstr("ConsoleLogin", "Failure")
	} else {
		e.kstr("ConsoleLogin", "Success")
	}
	e.close()
	e.kobj("additionalEventData")
	e.kv("LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"+g.hex(16),
		"MobileVersion", "No")
	if saml {
		e.kstr("SamlProviderArn", "arn:aws:iam::"+g.account+":saml-provider/Okta")
	}
	if mfaUsed == "Yes" {
		if root {
			e.kstr("MFAIdentifier", "arn:aws:iam::"+g.account+":mfa/root-account-mfa-device")
		} else {
			e.kstr("MFAIdentifier", "arn:aws:iam::"+g.account+":mfa/"+u.name)
		}
	}
	e.kstr("MFAUsed", mfaUsed)
	e.close()
	e.kstr("eventID", g.uuid())
	e.kbool("readOnly", false)
	e.kstr("eventType", "AwsConsoleSignIn")
	e.kbool("managementEvent", true)
	e.kstr("recipientAccountId", g.account)
	e.kstr("eventCategory", "Management")
	s := tlsSuites[g.intn(2)]
	e.kobj("tlsDetails")
	e.kv("tlsVersion", s[0], "cipherSuite", s[1], "clientProvidedHostHeader", "signin.aws.amazon.com")
	e.close()
	e.close()
	_ = t
}

// cisChange writes one of the changes the CIS AWS Foundations alarms watch.
func (g *Generator) cisChange(region, when string, t time.Time) {
	a := g.personActor(t)
	if a.typ == "IAMUser" && a.u.console && g.intn(2) == 0 {
		a = g.personActor(t) // changes come from automation more often than from people
	}
	denied := g.rng.Float64() < pDenied
	n := g.intn(100)
	switch {
	case n < 50:
		c := pickCall(g, sgCalls, 10)
		g.call("ec2.amazonaws.com", "1.09", "Client.UnauthorizedOperation", c, false, a, region, when, denied)
	case n < 90 && region == "us-east-1":
		c := pickCall(g, iamCalls, 10)
		g.call("iam.amazonaws.com", "1.08", "AccessDenied", c, false, a, region, when, denied)
	case n < 95:
		g.call("ec2.amazonaws.com", "1.09", "Client.UnauthorizedOperation", &call{name: "CreateRoute", req: pCreateRoute, resp: rEC2Return}, false, a, region, when, denied)
	default:
		g.call("s3.amazonaws.com", "1.09", "AccessDenied", &call{name: "PutBucketPolicy", req: pPutBucketPolicy}, false, a, region, when, denied)
	}
}

var sgCalls = []call{
	{name: "AuthorizeSecurityGroupIngress", weight: 4, req: pSGRule, resp: rSGRule},
	{name: "RevokeSecurityGroupIngress", weight: 2, req: pSGRule, resp: rEC2Return},
	{name: "AuthorizeSecurityGroupEgress", weight: 1, req: pSGRule, resp: rSGRule},
	{name: "CreateSecurityGroup", weight: 3, req: pCreateSG, resp: rCreateSG},
}

var iamCalls = []call{
	{name: "PutRolePolicy", weight: 3, req: pPutRolePolicy},
	{name: "AttachRolePolicy", weight: 3, req: pAttachRolePolicy},
	{name: "CreatePolicyVersion", weight: 2, req: pCreatePolicyVersion, resp: rPolicyVersion},
	{name: "DetachUserPolicy", weight: 2, req: pDetachUserPolicy},
}

func pSGRule(g *Generator, e *enc, _ *ctx) {
	port := []int{22, 443, 5432, 3389, 8080}[g.intn(5)]
	cidr := g.pick([]string{"0.0.0.0/0", "10.0.0.0/16", "203.0.113.0/24"})
	e.open()
	e.kstr("groupId", g.ec2ID("sg-"))
	e.kobj("ipPermissions")
	e.karr("items")
	e.open()
	e.kstr("ipProtocol", "tcp")
	e.knum("fromPort", port)
	e.knum("toPort", port)
	e.kobj("groups")
	e.close()
	e.kobj("ipRanges")
	e.karr("items")
	e.obj("cidrIp", cidr, "description", "temporary access")
	e.end()
	e.close()
	e.kobj("ipv6Ranges")
	e.close()
	e.kobj("prefixListIds")
	e.close()
	e.close()
	e.end()
	e.close()
	e.close()
}

func rSGRule(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kstr("requestId", g.uuid())
	e.kbool("_return", true)
	e.kobj("securityGroupRuleSet")
	e.karr("items")
	e.open()
	e.kv("groupOwnerId", c.account, "groupId", g.ec2ID("sg-"), "securityGroupRuleId", g.ec2ID("sgr-"))
	e.kbool("isEgress", c.call.name == "AuthorizeSecurityGroupEgress")
	e.kstr("ipProtocol", "tcp")
	e.knum("fromPort", 443)
	e.knum("toPort", 443)
	e.kv("cidrIpv4", "0.0.0.0/0", "description", "temporary access")
	e.close()
	e.end()
	e.close()
	e.close()
}

func pCreateSG(g *Generator, e *enc, _ *ctx) {
	e.obj("groupName", g.pick(apps)+"-"+g.pick(envs)+"-sg", "groupDescription", "Managed by Terraform", "vpcId", g.pick(g.vpcs))
}

func rCreateSG(g *Generator, e *enc, _ *ctx) {
	e.open()
	e.kstr("requestId", g.uuid())
	e.kbool("_return", true)
	e.kstr("groupId", g.ec2ID("sg-"))
	e.close()
}

func pCreateRoute(g *Generator, e *enc, _ *ctx) {
	e.obj("routeTableId", g.ec2ID("rtb-"), "destinationCidrBlock", "0.0.0.0/0", "natGatewayId", g.ec2ID("nat-"))
}

func pPutBucketPolicy(g *Generator, e *enc, c *ctx) {
	b := g.pick(g.buckets)
	e.open()
	e.kv("bucketName", b, "Host", b+".s3."+c.region+".amazonaws.com")
	e.kobj("bucketPolicy")
	e.kstr("Version", "2012-10-17")
	e.karr("Statement")
	e.open()
	e.kv("Sid", "AllowCloudFront", "Effect", "Allow")
	e.kobj("Principal")
	e.kstr("Service", "cloudfront.amazonaws.com")
	e.close()
	e.kv("Action", "s3:GetObject", "Resource", "arn:aws:s3:::"+b+"/*")
	e.close()
	e.end()
	e.close()
	e.kstr("policy", "")
	e.close()
}

const policyDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::acme-artifacts/*"}]}`

func pPutRolePolicy(g *Generator, e *enc, _ *ctx) {
	e.obj("roleName", g.role().name, "policyName", g.pick(policyNames), "policyDocument", policyDocument)
}

func pAttachRolePolicy(g *Generator, e *enc, c *ctx) {
	e.obj("roleName", g.role().name, "policyArn", "arn:aws:iam::"+c.account+":policy/"+g.pick(policyNames))
}

func pCreatePolicyVersion(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kv("policyArn", "arn:aws:iam::"+c.account+":policy/"+g.pick(policyNames), "policyDocument", policyDocument)
	e.kbool("setAsDefault", true)
	e.close()
}

func rPolicyVersion(g *Generator, e *enc, c *ctx) {
	e.open()
	e.kobj("policyVersion")
	e.kstr("versionId", "v"+g.itoa(2+g.intn(5)))
	e.kbool("isDefaultVersion", true)
	e.kstr("createDate", displayTime(c.when, 0))
	e.close()
	e.close()
}

func pDetachUserPolicy(g *Generator, e *enc, c *ctx) {
	e.obj("userName", g.user().name, "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess")
}

func (g *Generator) opsworks(region, when string, t time.Time) {
	c := pickCall(g, opsworksCalls, opsworksTotal)
	a := g.personActor(t)
	if a.invokedBy != "" || a.ip == "AWS Internal" {
		a = g.personActor(t)
	}
	if a.typ == "AssumedRole" && a.r.kind == "sso" && g.intn(2) == 0 {
		a.agent = "console.amazonaws.com"
	}
	g.call("opsworks-cm.amazonaws.com", "1.08", "AccessDeniedException", c, c.readOnly, a, region, when, g.rng.Float64() < pDenied)
}

var opsworksTotal = func() int {
	n := 0
	for _, c := range opsworksCalls {
		n += c.weight
	}
	return n
}()

func (g *Generator) root(region, when string, t time.Time) {
	root := &user{name: "root", ips: []string{"203.0.113.7", "198.51.100.201"}}
	if region == "us-east-1" && g.intn(2) == 0 {
		g.consoleLogin(when, t, root, true)
		return
	}
	a := &actor{typ: "Root", keyID: "ASIA" + g.upper(16), mfa: "true", console: true,
		created: t.Add(-time.Duration(g.intn(1800)) * time.Second), ip: g.pick(root.ips), agent: "AWS Internal"}
	c := &call{name: "DescribeRegions", req: pEmpty}
	source := "ec2.amazonaws.com"
	if region == "us-east-1" {
		switch g.intn(3) {
		case 0:
			source, c = "iam.amazonaws.com", &call{name: "GetAccountSummary"}
		case 1:
			source, c = "iam.amazonaws.com", &call{name: "ListUsers"}
		}
	}
	g.call(source, "1.08", "AccessDenied", c, true, a, region, when, false)
}

// displayTime renders an RFC 3339 eventTime plus sec seconds the way many
// services write times in responseElements: "Mar 4, 2024, 10:05:12 AM".
func displayTime(when string, sec int) string {
	t, err := time.Parse(time.RFC3339, when)
	if err != nil {
		return when
	}
	return t.Add(time.Duration(sec) * time.Second).Format("Jan 2, 2006, 3:04:05 PM")
}

// Random helpers.

func (g *Generator) intn(n int) int { return g.rng.IntN(n) }

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *Generator) role() *role { return g.roles[g.rng.IntN(len(g.roles))] }

func (g *Generator) user() *user { return g.users[g.rng.IntN(len(g.users))] }

func (g *Generator) itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func (g *Generator) fromAlphabet(n int, alphabet string) string {
	b := make([]byte, n)
	var r uint64
	for i := range b {
		if i%8 == 0 {
			r = g.rng.Uint64()
		}
		b[i] = alphabet[int(r&0xff)%len(alphabet)]
		r >>= 8
	}
	return string(b)
}

func (g *Generator) hex(n int) string      { return g.fromAlphabet(n, hexDigits) }
func (g *Generator) upperHex(n int) string { return g.fromAlphabet(n, "0123456789ABCDEF") }
func (g *Generator) upper(n int) string    { return g.fromAlphabet(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }
func (g *Generator) alnum(n int) string {
	return g.fromAlphabet(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}
func (g *Generator) digits(n int) string { return g.fromAlphabet(n, "0123456789") }

// token is an STS session token's length and alphabet.
func (g *Generator) token() string {
	return "IQoJb3JpZ2luX2Vj" + g.fromAlphabet(380, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}

func (g *Generator) ec2ID(prefix string) string { return prefix + "0" + g.hex(16) }

// uuid is a random (version 4) UUID in CloudTrail's lower-case form.
func (g *Generator) uuid() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(out)
}

// stableID is a 17-character IAM unique-id suffix derived from a name, so a
// principal keeps its id however many records are drawn.
func stableID(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	v := h.Sum64()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 17)
	for i := range b {
		v = v*6364136223846793005 + 1442695040888963407
		b[i] = alphabet[v>>59]
	}
	return string(b)
}

func (g *Generator) privateIP() string {
	return "10." + g.itoa(g.intn(4)) + "." + g.itoa(g.intn(64)) + "." + g.itoa(1+g.intn(250))
}
