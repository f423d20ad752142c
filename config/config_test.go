package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
)

// envOf returns an env lookup over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// errLines parses src and returns its error messages, one per problem.
func errLines(t *testing.T, src string, env map[string]string) []string {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(src), envOf(env))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors; config: %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config with an error")
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want Errors", err)
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	if got := strings.Join(lines, "\n"); got != err.Error() {
		t.Errorf("Errors.Error() = %q, want the problems joined by newlines %q", err.Error(), got)
	}
	return lines
}

func mustParse(t *testing.T, src string, env map[string]string) *Config {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(src), envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []string
	}{
		{
			name: "unknown key in a notifier block",
			src: `notifiers:
  - name: sec-slack
    type: slack
    slack:
      tokn: abc
      channel: "#security"
routes:
  - notifiers: [sec-slack]
`,
			want: []string{`t.yaml:5: notifiers[0].slack: unknown key "tokn"`},
		},
		{
			name: "unknown top-level key",
			src:  "log: {level: info}\nnotifier: []\n",
			want: []string{`t.yaml:2: unknown key "notifier"`},
		},
		{
			name: "duplicate key",
			src:  "log:\n  level: info\n  level: debug\n",
			want: []string{`t.yaml:3: log: duplicate key "level" (first set at line 2)`},
		},
		{
			name: "wrong types",
			src: `server: [a]
source:
  sqs:
    max_messages: ten
    wait_time: 5
  dir:
    watch: "yes"
dedup: {window: 1h, key: principal}
notifiers: {}
`,
			want: []string{
				`t.yaml:1: server: expected a mapping, got a list`,
				`t.yaml:4: source.sqs.max_messages: expected an integer, got "ten"`,
				`t.yaml:5: source.sqs.wait_time: expected a duration such as 30s, 5m or 1h, got "5"`,
				`t.yaml:7: source.dir.watch: expected true or false, got "yes"`,
				`t.yaml:8: dedup.key: expected a list, got "principal"`,
				`t.yaml:9: notifiers: expected a list, got a mapping`,
			},
		},
		{
			name: "a list where a single value belongs",
			src:  "log:\n  level: [debug]\n",
			want: []string{`t.yaml:2: log.level: expected a single value, got a list`},
		},
		{
			name: "enumerations",
			src:  "log: {level: loud, format: xml}\nsource: {type: kafka}\nstate: {type: etcd}\n",
			want: []string{
				`t.yaml:1: log.level: expected one of debug, info, warn, error, got "loud"`,
				`t.yaml:1: log.format: expected json or text, got "xml"`,
				`t.yaml:2: source.type: expected sqs, dir or lambda, got "kafka"`,
				`t.yaml:3: state.type: expected memory, redis or sqlite, got "etcd"`,
			},
		},
		{
			name: "sqs source requires a queue and buckets",
			src:  "source:\n  type: sqs\n  sqs:\n    region: us-east-1\n",
			want: []string{
				// allowed_buckets is absent, and so is s3: the line is source's.
				`t.yaml:1: source.s3.allowed_buckets: at least one bucket is required when source.type is sqs`,
				`t.yaml:3: source.sqs.queue_url: required when source.type is sqs`,
			},
		},
		{
			// The event source mapping polls: no queue, but the same buckets.
			name: "lambda source requires buckets, not a queue",
			src:  "source:\n  type: lambda\n  s3:\n    allowed_buckets: [\"trail-*\"]\n    read_timeout: 0s\n",
			want: []string{
				`t.yaml:4: source.s3.allowed_buckets[0]: "trail-*" is a pattern; list the buckets by their exact names (wildcards are refused: a forged notification could then name any bucket the credentials can read)`,
				`t.yaml:5: source.s3.read_timeout: must be between 1s and 1h, got 0s`,
			},
		},
		{
			name: "lambda source without buckets",
			src:  "source: {type: lambda}\n",
			want: []string{`t.yaml:1: source.s3.allowed_buckets: at least one bucket is required when source.type is lambda`},
		},
		{
			// The source block's line, wherever it is; s3's when it is there.
			name: "missing allowed_buckets points at the source block",
			src:  "log: {level: info}\n\nsource:\n  type: sqs\n  sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/1/q\"}\n",
			want: []string{`t.yaml:3: source.s3.allowed_buckets: at least one bucket is required when source.type is sqs`},
		},
		{
			name: "missing allowed_buckets points at the s3 block",
			src:  "log: {level: info}\nsource:\n  type: sqs\n  sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/1/q\"}\n  s3:\n    region: us-east-1\n",
			want: []string{`t.yaml:5: source.s3.allowed_buckets: at least one bucket is required when source.type is sqs`},
		},
		{
			name: "allowed_buckets are exact names",
			src:  "source:\n  type: sqs\n  sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/1/q\"}\n  s3:\n    allowed_buckets:\n      - trail-logs\n      - \"*\"\n      - trail-?\n",
			want: []string{
				`t.yaml:7: source.s3.allowed_buckets[1]: "*" is a pattern; list the buckets by their exact names (wildcards are refused: a forged notification could then name any bucket the credentials can read)`,
				`t.yaml:8: source.s3.allowed_buckets[2]: "trail-?" is a pattern; list the buckets by their exact names (wildcards are refused: a forged notification could then name any bucket the credentials can read)`,
			},
		},
		{
			name: "workers bounded",
			src:  "source:\n  type: sqs\n  sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/1/q\", workers: 1001}\n  s3: {allowed_buckets: [b]}\n",
			want: []string{"t.yaml:3: source.sqs.workers: must be between 1 and 1000, got 1001 (each worker holds a log's buffers and an S3 connection; more adds memory, not throughput)"},
		},
		{
			name: "reliability bounds",
			src: `source:
  type: sqs
  sqs: {queue_url: "https://sqs.us-east-1.amazonaws.com/1/q", visibility_timeout: 10m, max_hold: 5m}
  s3: {allowed_buckets: [b]}
rules:
  eval_timeout: 0s
state:
  delivered_ttl: 30m
`,
			want: []string{
				`t.yaml:3: source.sqs.max_hold: must be at least source.sqs.visibility_timeout (10m0s), got 5m0s: a message is held that long without any extension`,
				`t.yaml:6: rules.eval_timeout: must be between 1ms and 1m, got 0s (one record's evaluation against every rule takes well under 1ms)`,
				`t.yaml:8: state.delivered_ttl: must be between 1h and 8760h (365 days), got 30m0s`,
			},
		},
		{
			name: "max_hold bounded",
			src:  "source:\n  type: sqs\n  sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/1/q\", max_hold: 13h}\n  s3: {allowed_buckets: [b]}\n",
			want: []string{"t.yaml:3: source.sqs.max_hold: must be between 1s and 12h, got 13h0m0s"},
		},
		{
			name: "sqs limits",
			src: `source:
  type: sqs
  sqs: {queue_url: "https://sqs.us-east-1.amazonaws.com/1/q", wait_time: 21s, max_messages: 11, visibility_timeout: 0s, workers: 0}
  s3: {allowed_buckets: [b]}
`,
			want: []string{
				`t.yaml:3: source.sqs.wait_time: must be between 1s and 20s (long polling), got 21s`,
				`t.yaml:3: source.sqs.max_messages: must be between 1 and 10, got 11`,
				`t.yaml:3: source.sqs.visibility_timeout: must be between 2s and 12h, got 0s`,
				`t.yaml:3: source.sqs.workers: must be between 1 and 1000, got 0 (each worker holds a log's buffers and an S3 connection; more adds memory, not throughput)`,
			},
		},
		{
			name: "notifier timeout bounded",
			src: `notifiers:
  - {name: a, type: stdout, timeout: 50ms}
  - name: b
    type: stdout
    timeout: 11m
  - {name: c, type: stdout, timeout: 2s}
routes:
  - notifiers: [a, b, c]
`,
			want: []string{
				`t.yaml:2: notifiers[0].timeout: must be between 100ms and 10m0s (each attempt to send one alert), got 50ms`,
				`t.yaml:5: notifiers[1].timeout: must be between 100ms and 10m0s (each attempt to send one alert), got 11m0s`,
			},
		},
		{
			name: "missing required notifier values",
			src: `notifiers:
  - type: slack
    slack: {channel: "#sec"}
  - name: mail
    type: email
    email: {username: u}
  - name: mail
    type: stdout
routes:
  - notifiers: [mail]
`,
			want: []string{
				`t.yaml:2: notifiers[0].name: required`,
				`t.yaml:3: notifiers[0].slack: needs token and channel, or webhook_url`,
				`t.yaml:6: notifiers[1].email.host: required`,
				`t.yaml:6: notifiers[1].email.port: required, between 1 and 65535 (got 0)`,
				`t.yaml:6: notifiers[1].email: set username and password together, or neither`,
				`t.yaml:6: notifiers[1].email.from: required`,
				`t.yaml:6: notifiers[1].email.to: at least one address is required`,
				`t.yaml:7: notifiers[2].name: duplicate notifier name "mail"`,
			},
		},
		{
			name: "notifier blocks must match the type",
			src: `notifiers:
  - name: a
    type: slack
  - name: b
    type: stdout
    email: {host: h, port: 25, from: a@example.com, to: [b@example.com]}
  - name: c
    type: pager
routes:
  - notifiers: [a, b, c]
`,
			want: []string{
				`t.yaml:2: notifiers[0]: type slack needs a slack block`,
				`t.yaml:6: notifiers[1].email: only allowed when type is email`,
				`t.yaml:8: notifiers[2].type: expected slack, email, stdout, webhook, pagerduty or teams, got "pager"`,
			},
		},
		{
			name: "route referencing an unknown notifier",
			src: `notifiers:
  - {name: console, type: stdout}
routes:
  - match: {min_severity: high}
    notifiers: [console, pager]
  - match: {min_severity: severe, rules: ["[a-"], accounts: ["12345"]}
    notifiers: []
`,
			want: []string{
				`t.yaml:5: routes[0].notifiers[1]: unknown notifier "pager"`,
				`t.yaml:6: routes[1].match.min_severity: expected one of info, low, medium, high, critical, got "severe"`,
				`t.yaml:6: routes[1].match.rules[0]: invalid pattern "[a-": syntax error in pattern`,
				`t.yaml:6: routes[1].match.accounts[0]: expected a 12-digit AWS account id or a pattern of digits, * and ? that can match one (such as 1234*), got "12345"`,
				`t.yaml:7: routes[1].notifiers: at least one notifier is required`,
			},
		},
		{
			name: "dedup, suppressions and state",
			src: `dedup: {window: 1h, key: [rule_id, user]}
suppressions:
  - where: {principal: "[x", colour: blue}
    expires: 31/01/2027
state:
  type: redis
`,
			want: []string{
				`t.yaml:1: dedup.key[1]: unknown field "user"; expected one of rule_id, principal, event_id, account_id, source_ip, event_name, event_source, region, severity, identity_type, user_agent`,
				`t.yaml:3: suppressions[0].rule: required`,
				`t.yaml:3: suppressions[0].where.colour: unknown field "colour"; expected one of rule_id, principal, event_id, account_id, source_ip, event_name, event_source, region, severity, identity_type, user_agent`,
				`t.yaml:3: suppressions[0].where.principal: invalid pattern "[x": syntax error in pattern`,
				`t.yaml:3: suppressions[0].reason: required`,
				`t.yaml:3: suppressions[0].owner: required`,
				`t.yaml:4: suppressions[0].expires: expected a date (2006-01-02) or an RFC 3339 time (2006-01-02T15:04:05Z), got "31/01/2027"`,
				`t.yaml:5: state.redis.addr: required when state.type is redis`,
			},
		},
		{
			name: "known networks must be CIDR blocks",
			src:  "rules:\n  data:\n    known_networks:\n      - 10.0.0.0/8\n      - 10.0.0.1\n    rules: {}\n",
			want: []string{
				`t.yaml:5: rules.data.known_networks[1]: expected a CIDR block such as 203.0.113.0/24, got 10.0.0.1`,
				`t.yaml:6: rules.data.rules: "rules" is reserved: the policies themselves live under data.rules`,
			},
		},
		{
			name: "unset environment variables",
			src:  "source:\n  type: sqs\n  sqs:\n    queue_url: ${QUEUE_URL}\n    region: ${REGION}-${ZONE}\n  s3: {allowed_buckets: [b]}\n",
			env:  map[string]string{"REGION": "us-east-1"},
			want: []string{
				`t.yaml:4: source.sqs.queue_url: environment variable QUEUE_URL is not set`,
				`t.yaml:5: source.sqs.region: environment variable ZONE is not set`,
			},
		},
		{
			name: "malformed references",
			src:  "log:\n  format: ${}\n  level: ${LEVEL\n",
			want: []string{
				`t.yaml:2: log.format: invalid environment variable name "" in ${...}`,
				`t.yaml:3: log.level: "${" without a closing "}" (write "$${" for a literal "${")`,
			},
		},
		{
			name: "a secret and its file",
			src: `notifiers:
  - name: s
    type: slack
    slack:
      token: abc
      token_file: /dev/null
      channel: "#c"
routes: [{notifiers: [s]}]
`,
			want: []string{`t.yaml:6: notifiers[0].slack: set "token" or "token_file", not both`},
		},
		{
			name: "a file and its secret",
			// Any non-empty file will do; tests run in the package directory.
			src:  "state:\n  type: redis\n  redis:\n    addr: localhost:6379\n    password_file: config_test.go\n    password: x\n",
			want: []string{`t.yaml:6: state.redis: set "password_file" or "password", not both`},
		},
		{
			name: "a password in clear across the network",
			src: `notifiers:
  - name: m
    type: email
    email: {host: smtp.example.com, port: 25, tls: none, username: u, password: p, from: a@example.com, to: [b@example.com]}
routes: [{notifiers: [m]}]
`,
			want: []string{`t.yaml:4: notifiers[0].email.tls: none would send the password unencrypted to "smtp.example.com"; use starttls or tls, or a relay on localhost`},
		},
		{
			name: "route patterns",
			src: `notifiers: [{name: n, type: stdout}]
routes:
  - match:
      event_sources: ["*.amazonaws.com", "[s3"]
      accounts: ["1234*", "12345678901?", "*", "123456789012", "1234567890123", "12-34*", "arn:*", "1234"]
    notifiers: [n]
`,
			want: []string{
				`t.yaml:4: routes[0].match.event_sources[1]: invalid pattern "[s3": syntax error in pattern`,
				`t.yaml:5: routes[0].match.accounts[4]: expected a 12-digit AWS account id or a pattern of digits, * and ? that can match one (such as 1234*), got "1234567890123"`,
				`t.yaml:5: routes[0].match.accounts[5]: expected a 12-digit AWS account id or a pattern of digits, * and ? that can match one (such as 1234*), got "12-34*"`,
				`t.yaml:5: routes[0].match.accounts[6]: expected a 12-digit AWS account id or a pattern of digits, * and ? that can match one (such as 1234*), got "arn:*"`,
				`t.yaml:5: routes[0].match.accounts[7]: expected a 12-digit AWS account id or a pattern of digits, * and ? that can match one (such as 1234*), got "1234"`,
			},
		},
		{
			name: "free-form values",
			src: `suppressions:
  - {rule: r, reason: x, owner: o, where: {principal: [a], principal: b}}
rules: {data: {a: 1, a: 2, [k]: v}}
`,
			want: []string{
				`t.yaml:2: suppressions[0].where.principal: expected a single value, got a list`,
				`t.yaml:2: suppressions[0].where: duplicate key "principal" (first set at line 2)`,
				`t.yaml:3: rules.data: duplicate key "a" (first set at line 3)`,
				`t.yaml:3: rules.data: keys must be strings, got a list`,
			},
		},
		{
			name: "yaml.v3 is stricter than its defaults here",
			src:  "source: {dir: {watch: yes}, sqs: {workers: 2.5}}\nroutes: [{match: {min_severity: 3}, notifiers: [console]}]\nnotifiers: [{name: console, type: stdout}]\n",
			want: []string{
				`t.yaml:1: source.dir.watch: expected true or false, got "yes"`,
				`t.yaml:1: source.sqs.workers: expected an integer, got "2.5"`,
				`t.yaml:2: routes[0].match.min_severity: expected one of info, low, medium, high, critical, got "3"`,
			},
		},
		{
			name: "syntax error",
			// yaml.v3 reports the line of the mapping it was parsing.
			src:  "log:\n  level: info\n format: json\n",
			want: []string{`t.yaml:2: did not find expected key`},
		},
		{
			name: "top level not a mapping",
			src:  "- a\n- b\n",
			want: []string{`t.yaml:1: expected a mapping of keys at the top level, got a list`},
		},
		{
			name: "two documents",
			src:  "log: {level: info}\n---\nlog: {level: debug}\n",
			want: []string{`t.yaml:2: found a second YAML document; only one is allowed`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errLines(t, tt.src, tt.env)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Problems in different parts of a file are all reported, in line order,
// and each is an *Error with its line and path.
func TestParseReportsAllErrors(t *testing.T) {
	src := `log: {level: loud}
server: {listen: "127.0.0.1:9090"}
source: {type: dir, dir: {path: logs, wath: true}}
routes:
  - notifiers: [nobody]
`
	_, err := Parse("t.yaml", []byte(src), nil)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse error = %v, want Errors", err)
	}
	type where struct {
		line int
		path string
	}
	var got []where
	for _, e := range es {
		got = append(got, where{e.Line, e.Path})
	}
	want := []where{{1, "log.level"}, {3, "source.dir"}, {5, "routes[0].notifiers[0]"}}
	if !slices.Equal(got, want) {
		t.Errorf("problems at %v, want %v\n%v", got, want, err)
	}
	var one *Error
	if !errors.As(err, &one) || one.File != "t.yaml" {
		t.Errorf("errors.As(*Error) = %+v", one)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "f.yaml", Line: 3, Path: "a.b", Err: errors.New("bad")}, "f.yaml:3: a.b: bad"},
		{Error{File: "f.yaml", Path: "a.b", Err: errors.New("bad")}, "f.yaml: a.b: bad"},
		{Error{File: "f.yaml", Line: 3, Err: errors.New("bad")}, "f.yaml:3: bad"},
		{Error{Path: "a.b", Err: errors.New("bad")}, "a.b: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestEnvExpansion(t *testing.T) {
	src := `log:
  format: ${FORMAT}
server:
  listen: ${HOST}:${PORT}
source:
  dir:
    path: "/logs/$${NOT_A_VAR}/$HOME/${SUB}"
    watch: ${WATCH}
rules:
  data:
    greeting: "${GREETING}"
    count: ${COUNT}
notifiers:
  - name: mail
    type: email
    email:
      host: smtp.example.com
      port: ${SMTP_PORT}
      from: trailguard@example.com
      to: ["${TO}"]
  - name: chat
    type: slack
    slack:
      webhook_url: ${WEBHOOK}
      api_url: ${EMPTY}
routes:
  - notifiers: [mail, chat]
`
	env := map[string]string{
		"FORMAT": "text", "HOST": "0.0.0.0", "PORT": "9999", "SUB": "x",
		"WATCH": "false", "GREETING": "hi ${NESTED}", "COUNT": "3", "SMTP_PORT": "2525",
		"TO": "secops@example.com", "WEBHOOK": "https://hooks.example.com/T/B/x", "EMPTY": "",
	}
	cfg := mustParse(t, src, env)
	checks := []struct {
		name      string
		got, want any
	}{
		{"log.format", cfg.Log.Format, "text"},
		{"server.listen", cfg.Server.Listen, "0.0.0.0:9999"},
		{"source.dir.path", cfg.Source.Dir.Path, "/logs/${NOT_A_VAR}/$HOME/x"},
		{"source.dir.watch", cfg.Source.Dir.Watch, false},
		{"rules.data.greeting (no re-expansion)", cfg.Rules.Data["greeting"], "hi ${NESTED}"},
		{"rules.data.count", cfg.Rules.Data["count"], 3},
		{"email.port", cfg.Notifiers[0].Email.Port, 2525},
		{"email.to", cfg.Notifiers[0].Email.To[0], "secops@example.com"},
		{"slack.webhook_url", cfg.Notifiers[1].Slack.WebhookURL.Reveal(), "https://hooks.example.com/T/B/x"},
		{"slack.api_url (empty keeps default)", cfg.Notifiers[1].Slack.APIURL, "https://slack.com/api/"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// Keys are not expanded: a ${...} key is simply unknown.
func TestEnvNotExpandedInKeys(t *testing.T) {
	got := errLines(t, "log:\n  ${KEY}: info\n", map[string]string{"KEY": "level"})
	want := []string{`t.yaml:2: log: unknown key "${KEY}"`}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("slack-token", "xoxb-from-file\n")
	write("smtp-password", "smtp-from-file\r\n")
	write("hook", "https://hooks.example.com/from-file")
	write("redis", "redis-from-file")
	write("empty", "\n")

	src := `notifiers:
  - name: bot
    type: slack
    slack: {token_file: slack-token, channel: "#sec"}
  - name: hook
    type: slack
    slack: {webhook_url_file: ` + filepath.Join(dir, "hook") + `}
  - name: mail
    type: email
    email:
      host: smtp.example.com
      port: 587
      username: tg
      password_file: ${SECRETS}/smtp-password
      from: trailguard@example.com
      to: [secops@example.com]
routes: [{notifiers: [bot, hook, mail]}]
state:
  type: redis
  redis: {addr: "localhost:6379", password_file: redis}
`
	path := filepath.Join(dir, "trailguard.yaml")
	write("trailguard.yaml", src)

	t.Setenv("SECRETS", dir)
	cfg, err := Load(path) // relative *_file paths are relative to the file
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for name, got := range map[string]Secret{
		"xoxb-from-file":                      cfg.Notifiers[0].Slack.Token,
		"https://hooks.example.com/from-file": cfg.Notifiers[1].Slack.WebhookURL,
		"smtp-from-file":                      cfg.Notifiers[2].Email.Password,
		"redis-from-file":                     cfg.State.Redis.Password,
	} {
		if got.Reveal() != name {
			t.Errorf("secret = %q, want %q", got.Reveal(), name)
		}
	}

	t.Run("missing and empty files", func(t *testing.T) {
		src := "state:\n  type: redis\n  redis:\n    addr: localhost:6379\n    password_file: nope\n" +
			"notifiers:\n  - name: s\n    type: slack\n    slack: {token_file: empty, channel: c}\n" +
			"  - name: z\n    type: slack\n    slack: {token_file: /dev/zero, channel: c}\nroutes: [{notifiers: [s, z]}]\n"
		_, err := Parse(filepath.Join(dir, "t.yaml"), []byte(src), nil)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
		want := []string{
			filepath.Join(dir, "t.yaml") + ":5: state.redis.password_file: open " + filepath.Join(dir, "nope") + ": no such file or directory",
			filepath.Join(dir, "t.yaml") + ":9: notifiers[0].slack.token_file: " + filepath.Join(dir, "empty") + " is empty",
			filepath.Join(dir, "t.yaml") + ":12: notifiers[1].slack.token_file: /dev/zero is larger than 64 KiB: not a secret (a wrong path?)",
		}
		if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
			t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load error = %v, want fs.ErrNotExist", err)
	}
}

func TestDurationsAndDates(t *testing.T) {
	tests := []struct {
		window, expires string
		wantWindow      time.Duration
		wantExpires     time.Time
	}{
		{"0s", "2027-01-31", 0, time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"90s", `"2027-01-31"`, 90 * time.Second, time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"1h30m", "2027-01-31T10:00:00+02:00", 90 * time.Minute, time.Date(2027, 1, 31, 8, 0, 0, 0, time.UTC)},
		{"'5m'", "2027-01-31T10:00:00Z", 5 * time.Minute, time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.window+" "+tt.expires, func(t *testing.T) {
			src := "dedup: {window: " + tt.window + "}\nsuppressions:\n  - {rule: r, reason: why, owner: me, expires: " + tt.expires + "}\n"
			cfg := mustParse(t, src, nil)
			if cfg.Dedup.Window != tt.wantWindow {
				t.Errorf("window = %v, want %v", cfg.Dedup.Window, tt.wantWindow)
			}
			if got := cfg.Suppressions[0].Expires; !got.Equal(tt.wantExpires) {
				t.Errorf("expires = %v, want %v", got, tt.wantExpires)
			}
		})
	}
}

func TestSuppressionExpired(t *testing.T) {
	s := Suppression{Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}
	if s.Expired(s.Expires.Add(-time.Second)) || !s.Expired(s.Expires) {
		t.Error("a suppression must apply until, not at, its expiry")
	}
	if (Suppression{}).Expired(time.Now()) {
		t.Error("a suppression without expires must never expire")
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "expired suppression",
			src: `rules: {data: {known_networks: [10.0.0.0/8]}}
suppressions:
  - rule: opsworkscm.*
    reason: migration
    owner: me@example.com
    expires: 2020-01-01
`,
			want: []string{`t.yaml:6: suppressions[0].expires: expired on 2020-01-01T00:00:00Z, so the suppression no longer applies`},
		},
		{
			name: "delivered markers shorter than the DLQ retention",
			src:  "rules: {packs: []}\nstate: {delivered_ttl: 24h}\n",
			want: []string{`t.yaml:2: state.delivered_ttl: 24h0m0s is shorter than 14 days: a message redriven from a dead-letter queue after that may notify again; keep it at least as long as the DLQ's retention`},
		},
		{
			name: "no networks needed without opsworkscm",
			src:  "rules:\n  packs: [aws]\n",
		},
		{
			name: "notifier without route; mail in clear to a local relay",
			src: `rules: {packs: []}
notifiers:
  - {name: a, type: stdout}
  - name: b
    type: email
    email: {host: localhost, port: 25, tls: none, username: u, password: p, from: a@example.com, to: [b@example.com]}
routes: [{notifiers: [a]}]
`,
			want: []string{`t.yaml:4: notifiers[1]: notifier "b" is not used by any route`},
		},
		{
			name: "no routes",
			src:  "rules: {packs: []}\nnotifiers: [{name: a, type: stdout}]\n",
			want: []string{`t.yaml: routes: no routes: alerts are not sent anywhere`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.src, nil)
			if got := cfg.Warnings(); !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	def := Default()
	want := &Config{
		Log:    Log{Level: slog.LevelInfo, Format: "json"},
		Server: Server{Listen: "127.0.0.1:9090", Web: Web{Enabled: true}},
		Source: Source{
			Type: "dir",
			SQS:  SQS{WaitTime: 20 * time.Second, MaxMessages: 10, VisibilityTimeout: 5 * time.Minute, Workers: 16, MaxHold: 15 * time.Minute},
			S3:   S3{ReadTimeout: 30 * time.Second},
			Dir:  Dir{Path: "examples/logs", Watch: true},
		},
		Rules:     Rules{Packs: []string{"opsworkscm", "aws", "threats"}, EvalTimeout: time.Second, Evaluator: "plan"},
		Notifiers: []Notifier{{Name: "console", Type: "stdout"}},
		Routes:    []Route{{Notifiers: []string{"console"}}},
		Dedup:     Dedup{Window: time.Hour, Key: []string{"rule_id", "account_id", "principal"}},
		State:     State{Type: "sqlite", DeliveredTTL: 14 * 24 * time.Hour},
		History:   History{MaxAge: 7 * 24 * time.Hour, MaxAlerts: 10000},
	}
	want.warnings = def.warnings
	if !reflect.DeepEqual(def, want) {
		t.Errorf("Default() = %+v\nwant %+v", def, want)
	}
	if got := def.Warnings(); len(got) != 0 {
		t.Errorf("Default().Warnings() = %q, want none", got)
	}

	for _, src := range []string{"", "# nothing\n", "---\n", "log:\nsource:\n  sqs:\n"} {
		cfg := mustParse(t, src, nil)
		cfg.warnings = def.warnings
		if !reflect.DeepEqual(cfg, def) {
			t.Errorf("Parse(%q) = %+v, want Default() %+v", src, cfg, def)
		}
	}

	t.Run("partial blocks keep the other defaults", func(t *testing.T) {
		cfg := mustParse(t, `source:
  type: sqs
  sqs: {queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q", workers: 8}
  s3: {allowed_buckets: [b]}
notifiers:
  - {name: mail, type: email, email: {host: h, port: 25, from: a@example.com, to: [b@example.com]}}
  - {name: chat, type: slack, slack: {token: t, channel: c}}
`, nil)
		want := SQS{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/q", WaitTime: 20 * time.Second,
			MaxMessages: 10, VisibilityTimeout: 5 * time.Minute, Workers: 8, MaxHold: 15 * time.Minute}
		if cfg.Source.SQS != want {
			t.Errorf("sqs = %+v, want %+v", cfg.Source.SQS, want)
		}
		if cfg.Notifiers[0].Email.TLS != "starttls" || cfg.Notifiers[1].Slack.APIURL != "https://slack.com/api/" {
			t.Errorf("email/slack defaults not applied: %+v %+v", cfg.Notifiers[0].Email, cfg.Notifiers[1].Slack)
		}
		if cfg.Routes != nil {
			t.Errorf("routes = %+v; setting notifiers must drop the default route", cfg.Routes)
		}
	})

	t.Run("packs", func(t *testing.T) {
		for src, want := range map[string][]string{
			"rules: {}\n":                    {"opsworkscm", "aws", "threats"},
			"rules: {packs: []}\n":           {},
			"rules:\n  packs:\n":             {},
			"rules: {packs: [aws]}\n":        {"aws"},
			"rules: {packs: [opsworkscm]}\n": {"opsworkscm"},
		} {
			if got := mustParse(t, src, nil).Rules.Packs; !slices.Equal(got, want) {
				t.Errorf("Parse(%q).Rules.Packs = %q, want %q", src, got, want)
			}
		}
	})
}

func TestExampleFileParses(t *testing.T) {
	const path = "../config.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(path, data, envOf(map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-example",
		"SMTP_PASSWORD":   "smtp-example",
	}))
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	for _, w := range cfg.Warnings() {
		if !strings.Contains(w, "expired") { // the example's date may pass
			t.Errorf("unexpected warning: %s", w)
		}
	}
	if cfg.Source.Type != "sqs" || cfg.Notifiers[0].Slack.Token.Reveal() != "xoxb-example" ||
		cfg.Notifiers[1].Email.Password.Reveal() != "smtp-example" || len(cfg.Routes) != 3 {
		t.Errorf("example parsed to %+v", cfg)
	}

	// Every key of the schema is documented in the example, at least in a comment.
	for _, key := range schemaKeys(reflect.TypeFor[Config]()) {
		if !strings.Contains(string(data), key+":") {
			t.Errorf("config.example.yaml does not mention %q", key)
		}
	}
}

// schemaKeys lists every key the schema accepts, _file variants included.
func schemaKeys(t reflect.Type) []string {
	var keys []string
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return nil
	}
	for key, f := range fields(t) {
		keys = append(keys, key)
		keys = append(keys, schemaKeys(t.Field(f.index).Type)...)
	}
	return keys
}

// Aliases of aliases must not make parsing explode.
func TestAliasBomb(t *testing.T) {
	src := `rules:
  data:
    a: &a [x, x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
`
	_, err := Parse("t.yaml", []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), "too many aliases") {
		t.Errorf("Parse error = %v, want too many aliases", err)
	}
}

// The decisions of issue 9, each tested where config makes it.
func TestOneTypePerConcept(t *testing.T) {
	cfg := mustParse(t, `notifiers: [{name: n, type: stdout}]
routes:
  - {match: {min_severity: High}, notifiers: [n]}
  - {match: {min_severity: ""}, notifiers: [n]}
  - {notifiers: [n]}
suppressions:
  - {rule: a.*, reason: r, owner: o, expires: 2020-01-01}
  - {rule: b.*, reason: r, owner: o, expires: 2999-01-01}
  - {rule: c.*, reason: r, owner: o}
`, nil)
	// min_severity is an alert.Severity, read by its UnmarshalText (any case);
	// absent or empty means any severity.
	for i, want := range []alert.Severity{alert.High, alert.SeverityInvalid, alert.SeverityInvalid} {
		if got := cfg.Routes[i].Match.MinSeverity; got != want {
			t.Errorf("routes[%d].match.min_severity = %v, want %v", i, got, want)
		}
	}
	// Parse warns about an expired suppression and says so, for the dispatcher.
	for i, want := range []bool{true, false, false} {
		if got := cfg.Suppressions[i].ExpiredAtLoad(); got != want {
			t.Errorf("suppressions[%d].ExpiredAtLoad() = %v, want %v", i, got, want)
		}
	}
	if w := cfg.Warnings(); len(w) != 1 || !strings.Contains(w[0], "suppressions[0].expires: expired") {
		t.Errorf("warnings = %q", w)
	}
	// Every name alert.Field knows is accepted in dedup keys and where.
	src := "dedup: {key: [" + strings.Join(alert.FieldNames(), ", ") + "]}\nsuppressions: [{rule: r, reason: r, owner: o, where: {"
	for _, f := range alert.FieldNames() {
		src += f + ": x, "
	}
	mustParse(t, src+"}}]\n", nil)
}

// Without source.s3.region the S3 client uses the SQS region (the validator
// warns), so that validate and run build the same clients; a region of its
// own is kept.
func TestS3RegionFromSQS(t *testing.T) {
	const src = "source:\n  type: sqs\n  sqs: {queue_url: \"https://sqs.eu-west-1.amazonaws.com/1/q\", region: eu-west-1}\n  s3: {allowed_buckets: [b]%s}\n"
	cfg := mustParse(t, fmt.Sprintf(src, ""), nil)
	if got := cfg.Source.S3.Region; got != "eu-west-1" {
		t.Errorf("s3 region %q, want the sqs region eu-west-1", got)
	}
	want := []string{`t.yaml:3: source.sqs.region: source.s3.region is not set: log objects are read in source.sqs.region eu-west-1 (set source.s3.region if the trail's bucket is elsewhere)`}
	if got := cfg.Notes(); !slices.Equal(got, want) || len(cfg.Warnings()) > 1 {
		t.Errorf("notes %q, want %q (warnings %q)", got, want, cfg.Warnings())
	}
	cfg = mustParse(t, fmt.Sprintf(src, ", region: us-east-2"), nil)
	if got := cfg.Source.S3.Region; got != "us-east-2" || len(cfg.Notes()) != 0 {
		t.Errorf("s3 region %q (notes %q), want its own us-east-2 and no note", got, cfg.Notes())
	}
}
