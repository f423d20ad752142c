// Package config reads trailguard's YAML configuration.
//
// Parsing is strict: an unknown key, a value of the wrong type, a duplicate
// key or a missing required value is an error that names the file, the line
// and the path of the value (notifiers[0].slack.token). Every problem in a
// file is reported at once, as [Errors].
//
// Scalar values may reference the environment as ${NAME}; $${ writes a
// literal ${. Keys are never expanded. Secrets ([Secret] fields) may instead
// be read from a file named by the same key with a _file suffix
// (token_file, password_file, webhook_url_file).
//
// An empty value (key: or key: null) leaves the default in place, except
// for lists, where it means an empty list. An empty file yields [Default].
//
// Each component takes its block as it is (slack.New takes a *Slack, the
// dispatcher takes Routes, Suppressions and Dedup) and does not check it
// again: this package is the one place that validates configuration. It
// depends on alert (field names, severities) and internal/glob (the one
// pattern rule) only; names of rule packs, for example, are only checked for
// shape here and resolved by the engine.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/trailguard/trailguard/alert"
)

// Values of the type keys, and other enumerations, as written in YAML.
const (
	SourceSQS = "sqs"
	SourceDir = "dir"
	// SourceLambda: SQS batches handed over by AWS Lambda (`trailguard
	// lambda`); only the s3 block is used, the event source mapping polls.
	SourceLambda = "lambda"

	NotifierSlack  = "slack"
	NotifierEmail  = "email"
	NotifierStdout = "stdout"
	// HTTP notifiers: see notifiers_http.go.
	NotifierWebhook   = "webhook"
	NotifierPagerDuty = "pagerduty"
	NotifierTeams     = "teams"

	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"

	StateMemory = "memory"
	StateRedis  = "redis"
	StateSQLite = "sqlite"

	FormatJSON = "json"
	FormatText = "text"
)

// Config is the whole configuration file. Field comments give each key's
// default; Default returns them all.
type Config struct {
	Log    Log    `yaml:"log" json:"log"`
	Server Server `yaml:"server" json:"server"`
	Source Source `yaml:"source" json:"source"`
	Filter Filter `yaml:"filter" json:"filter"`
	Rules  Rules  `yaml:"rules" json:"rules"`
	// When neither notifiers nor routes is set, every alert goes to a
	// stdout notifier named "console"; setting either replaces both.
	Notifiers    []Notifier    `yaml:"notifiers" json:"notifiers"`
	Routes       []Route       `yaml:"routes" json:"routes"`
	Dedup        Dedup         `yaml:"dedup" json:"dedup"`
	Suppressions []Suppression `yaml:"suppressions" json:"suppressions"` // default none
	State        State         `yaml:"state" json:"state"`
	History      History       `yaml:"history" json:"history"`

	warnings []string
	notes    []string
}

// Log configures the daemon's own logging.
type Log struct {
	Level  slog.Level `yaml:"level" json:"level"`   // debug|info|warn|error; default info
	Format string     `yaml:"format" json:"format"` // json|text; default json
}

// Server is the HTTP listener for /metrics, /healthz, /readyz and the web
// page.
type Server struct {
	Listen string `yaml:"listen" json:"listen"` // host:port; default 127.0.0.1:9090
	Web    Web    `yaml:"web" json:"web"`       // the triage page at / and its API under /api/
}

// Source says where CloudTrail logs come from. Only the block named by Type
// is used (and validated); the others are ignored.
type Source struct {
	Type string `yaml:"type" json:"type"` // sqs|dir|lambda; default dir
	SQS  SQS    `yaml:"sqs" json:"sqs"`
	S3   S3     `yaml:"s3" json:"s3"`
	Dir  Dir    `yaml:"dir" json:"dir"`
}

// SQS is the queue that receives log-delivery notifications.
type SQS struct {
	QueueURL          string        `yaml:"queue_url" json:"queue_url"`                   // required for type sqs
	Region            string        `yaml:"region" json:"region"`                         // "" = the AWS SDK's default chain
	Endpoint          string        `yaml:"endpoint" json:"endpoint"`                     // "" = AWS; set for LocalStack and the like
	WaitTime          time.Duration `yaml:"wait_time" json:"wait_time"`                   // long-poll wait, 0s..20s; default 20s
	MaxMessages       int           `yaml:"max_messages" json:"max_messages"`             // per receive, 1..10; default 10
	VisibilityTimeout time.Duration `yaml:"visibility_timeout" json:"visibility_timeout"` // 1s..12h; default 5m
	Workers           int           `yaml:"workers" json:"workers"`                       // concurrent messages, 1..MaxWorkers; default 16 (each mostly waits on S3 and Slack)
	// MaxHold bounds how long one message is kept invisible while it is
	// worked on: past it the visibility is no longer extended and the work
	// is abandoned, so a message that cannot finish comes back and, after
	// the queue's maxReceiveCount, reaches the dead-letter queue instead of
	// holding a worker forever. 1s..12h, at least visibility_timeout; default 15m.
	MaxHold time.Duration `yaml:"max_hold" json:"max_hold"`
}

// S3 is where the notified log files are fetched from.
type S3 struct {
	Region         string   `yaml:"region" json:"region"`                   // "" = the AWS SDK's default chain
	Endpoint       string   `yaml:"endpoint" json:"endpoint"`               // "" = AWS
	PathStyle      bool     `yaml:"path_style" json:"path_style"`           // default false
	AllowedBuckets []string `yaml:"allowed_buckets" json:"allowed_buckets"` // exact names, no wildcards; required (non-empty) for types sqs and lambda
	// ReadTimeout bounds each wait for S3's answer and for the next bytes of a
	// body (an idle timeout, not a limit on the transfer); default 30s.
	ReadTimeout time.Duration `yaml:"read_timeout" json:"read_timeout"`
}

// Dir reads log files from a local directory.
type Dir struct {
	Path  string `yaml:"path" json:"path"`   // relative to the working directory; default examples/logs
	Watch bool   `yaml:"watch" json:"watch"` // keep watching for new files; default true
}

// Filter drops events before evaluation.
type Filter struct {
	EventSources []string `yaml:"event_sources" json:"event_sources"` // e.g. s3.amazonaws.com; empty = every event
}

// Rules selects the Rego policies and the data documents they read.
type Rules struct {
	Paths []string       `yaml:"paths" json:"paths"` // extra .rego files or directories; default none
	Sigma []string       `yaml:"sigma" json:"sigma"` // files or directories of Sigma rules (.yml/.yaml), watched like paths; default none
	Packs []string       `yaml:"packs" json:"packs"` // embedded packs; default [opsworkscm, aws, threats] when the key is absent, [] = none
	Data  map[string]any `yaml:"data" json:"data"`   // loaded at the root of data (data.known_networks); default none
	// EvalTimeout is each record's evaluation budget: a rule still running
	// past it is cancelled and reported by id, and the record's other rules
	// are evaluated without it. 1ms..1m; default 1s.
	EvalTimeout time.Duration `yaml:"eval_timeout" json:"eval_timeout"`
	// Evaluator runs the rules: "plan" (OPA's query plan, interpreted by
	// the engine, with OPA's evaluator for what a plan cannot run) or
	// "topdown" (OPA's evaluator for everything). Default plan.
	Evaluator string `yaml:"evaluator" json:"evaluator"`
}

// Notifier is one named alert destination. Exactly the sub-block matching
// Type is set (non-nil); stdout has none.
type Notifier struct {
	Name      string     `yaml:"name" json:"name"`           // unique, required
	Type      string     `yaml:"type" json:"type"`           // slack|email|stdout|webhook|pagerduty|teams
	Slack     *Slack     `yaml:"slack" json:"slack"`         // set iff Type is slack
	Email     *Email     `yaml:"email" json:"email"`         // set iff Type is email
	Webhook   *Webhook   `yaml:"webhook" json:"webhook"`     // set iff Type is webhook
	PagerDuty *PagerDuty `yaml:"pagerduty" json:"pagerduty"` // set iff Type is pagerduty
	Teams     *Teams     `yaml:"teams" json:"teams"`         // set iff Type is teams
	// Timeout bounds each attempt to send one alert to this notifier, so a
	// stuck peer (or a stdout nobody reads) fails its own deliveries only;
	// MinNotifierTimeout..MaxNotifierTimeout, default DefaultNotifierTimeout.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// The range and default of Notifier.Timeout.
const (
	DefaultNotifierTimeout = 30 * time.Second
	MinNotifierTimeout     = 100 * time.Millisecond
	MaxNotifierTimeout     = 10 * time.Minute
)

// Slack posts with a bot token (Token and Channel) or to an incoming
// webhook (WebhookURL), never both.
type Slack struct {
	Token      Secret `yaml:"token" json:"token"`             // or token_file
	Channel    string `yaml:"channel" json:"channel"`         // with Token
	WebhookURL Secret `yaml:"webhook_url" json:"webhook_url"` // or webhook_url_file
	APIURL     string `yaml:"api_url" json:"api_url"`         // ends in "/"; default https://slack.com/api/
}

// Email sends alerts over SMTP.
type Email struct {
	Host     string   `yaml:"host" json:"host"`         // required
	Port     int      `yaml:"port" json:"port"`         // required, 1..65535
	TLS      string   `yaml:"tls" json:"tls"`           // starttls|tls|none; default starttls
	Username string   `yaml:"username" json:"username"` // set with Password, or neither
	Password Secret   `yaml:"password" json:"password"` // or password_file
	From     string   `yaml:"from" json:"from"`         // required, an RFC 5322 address
	To       []string `yaml:"to" json:"to"`             // at least one address
}

// Route sends the alerts it matches to its notifiers. Every matching route
// is used, so one alert can reach several routes' notifiers.
type Route struct {
	Match     Match    `yaml:"match" json:"match"`         // absent or empty = every alert
	Notifiers []string `yaml:"notifiers" json:"notifiers"` // names from Config.Notifiers; at least one
}

// Match holds an alert's conditions; all set conditions must hold, and a
// list condition holds when any of its entries matches. Every pattern is a
// glob of internal/glob: path.Match syntax in which '/' is an ordinary
// character.
type Match struct {
	MinSeverity  alert.Severity `yaml:"min_severity" json:"min_severity"`   // info|low|medium|high|critical; absent = any
	Rules        []string       `yaml:"rules" json:"rules"`                 // globs on the rule id, e.g. opsworkscm.*
	EventSources []string       `yaml:"event_sources" json:"event_sources"` // globs on the event source, e.g. *.amazonaws.com
	Accounts     []string       `yaml:"accounts" json:"accounts"`           // globs of digits, * and ? on the 12-digit account id, e.g. 1234*
}

// Dedup drops an alert whose key was already notified within Window.
type Dedup struct {
	Window time.Duration `yaml:"window" json:"window"` // default 1h; 0s disables dedup
	Key    []string      `yaml:"key" json:"key"`       // alert.FieldNames; default [rule_id, account_id, principal]
}

// Suppression silences alerts of the rules matching Rule, optionally only
// where the alert's fields match Where, until Expires.
type Suppression struct {
	Rule    string            `yaml:"rule" json:"rule"`       // glob on the rule id; required
	Where   map[string]string `yaml:"where" json:"where"`     // alert.FieldNames name → glob; all must match
	Reason  string            `yaml:"reason" json:"reason"`   // required
	Owner   string            `yaml:"owner" json:"owner"`     // required
	Expires time.Time         `yaml:"expires" json:"expires"` // zero = never; a bare date means 00:00 UTC that day

	expiredAtLoad bool
}

// Expired reports whether the suppression no longer applies at now.
func (s Suppression) Expired(now time.Time) bool {
	return !s.Expires.IsZero() && !now.Before(s.Expires)
}

// ExpiredAtLoad reports whether Parse found the suppression already expired
// and said so in Warnings, so that whoever applies it need not warn again.
func (s Suppression) ExpiredAtLoad() bool { return s.expiredAtLoad }

// State is where delivery records, dedup windows and stateful-rule records
// live: one SQLite file by default (kept across restarts), Redis for replicas,
// memory for tests.
type State struct {
	Type   string `yaml:"type" json:"type"`     // memory|redis|sqlite; default sqlite
	Redis  Redis  `yaml:"redis" json:"redis"`   // used when Type is redis
	SQLite SQLite `yaml:"sqlite" json:"sqlite"` // used when Type is sqlite
	// DeliveredTTL is how long a delivery is remembered, so that a message
	// that comes back (a redelivery, a redrive from the dead-letter queue)
	// notifies nobody twice. Keep it at least as long as the dead-letter
	// queue's retention. 1h..365d (in hours, e.g. 336h); default 336h (14 days).
	DeliveredTTL time.Duration `yaml:"delivered_ttl" json:"delivered_ttl"`
}

// SQLite is the single instance's state file, kept across restarts.
type SQLite struct {
	Path string `yaml:"path" json:"path"` // default /var/lib/trailguard/state.db, else the user's ($XDG_STATE_HOME/trailguard/state.db)
}

// Redis is the shared state store.
type Redis struct {
	Addr     string `yaml:"addr" json:"addr"`         // host:port; required for type redis
	Password Secret `yaml:"password" json:"password"` // or password_file
	DB       int    `yaml:"db" json:"db"`             // default 0
}

// Slack and Email are allocated only when their block appears, so their
// defaults are applied then, before the block is decoded.
type defaulter interface{ setDefaults() }

func (s *Slack) setDefaults() { s.APIURL = "https://slack.com/api/" }
func (e *Email) setDefaults() { e.TLS = TLSStartTLS }

// defaults returns the configuration used for every key a file leaves out.
// It builds fresh values on every call so callers may modify the result.
func defaults() *Config {
	return &Config{
		Log:    Log{Level: slog.LevelInfo, Format: FormatJSON},
		Server: Server{Listen: "127.0.0.1:9090", Web: Web{Enabled: true}},
		Source: Source{
			Type: SourceDir,
			SQS: SQS{
				WaitTime:          20 * time.Second,
				MaxMessages:       10,
				VisibilityTimeout: 5 * time.Minute,
				Workers:           16,
				MaxHold:           15 * time.Minute,
			},
			S3: S3{ReadTimeout: 30 * time.Second},
			// The repository ships sample logs here, so a bare checkout runs.
			Dir: Dir{Path: "examples/logs", Watch: true},
		},
		Rules:     Rules{Packs: []string{"opsworkscm", "aws", "threats"}, EvalTimeout: time.Second, Evaluator: "plan"},
		Notifiers: []Notifier{{Name: "console", Type: NotifierStdout}},
		Routes:    []Route{{Notifiers: []string{"console"}}},
		// The account is part of the key: alerts of two accounts are never
		// merged, since each may need its own response.
		Dedup:   Dedup{Window: time.Hour, Key: []string{alert.FieldRuleID, alert.FieldAccountID, alert.FieldPrincipal}},
		State:   State{Type: StateSQLite, DeliveredTTL: DefaultDeliveredTTL},
		History: History{MaxAge: 7 * 24 * time.Hour, MaxAlerts: 10000},
	}
}

// Default returns the configuration used without a file: logs read from
// examples/logs (and watched), every alert printed by the stdout notifier
// named "console", dedup in memory.
func Default() *Config {
	cfg := defaults()
	v := newValidator("", nil, nil)
	v.validate(cfg)
	cfg.warnings = v.warningStrings()
	return cfg
}

// DefaultDeliveredTTL is state.delivered_ttl's default: the longest
// dead-letter queue retention the README recommends (14 days), so that a
// redrive of anything still in the DLQ sends nothing twice.
const DefaultDeliveredTTL = 14 * 24 * time.Hour

// MaxWorkers bounds source.sqs.workers.
const MaxWorkers = 1000

// resolve fills in what one setting implies for another, once validated:
// run and validate then build their clients from the same values.
func (c *Config) resolve(v *validator) {
	// The SQS region is the best guess for S3's: the trail's bucket and its
	// queue are usually in one region, and without it the S3 client had no
	// region at all although validate said ok.
	if c.Source.Type == SourceSQS && c.Source.S3.Region == "" && c.Source.SQS.Region != "" {
		c.Source.S3.Region = c.Source.SQS.Region
		v.notef("source.sqs.region", "source.s3.region is not set: log objects are read in source.sqs.region %s (set source.s3.region if the trail's bucket is elsewhere)", c.Source.SQS.Region)
	}
	v.notes.sort()
	for _, n := range v.notes {
		c.notes = append(c.notes, n.Error())
	}
}

// Notes returns what the configuration implies beyond what it says (such
// as a region taken from another block), formatted like warnings.
func (c *Config) Notes() []string {
	return slices.Clone(c.notes)
}

// Warnings returns problems that do not stop the configuration from
// working but probably are not what was meant, such as an expired
// suppression, each formatted like an error ("file:line: path: message").
func (c *Config) Warnings() []string {
	return slices.Clone(c.warnings)
}

// Load reads and parses the configuration file at path, expanding
// variables from the process environment. Relative *_file paths are
// resolved against the directory holding the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse parses a configuration document. name is used in error messages,
// and its directory is the base for relative *_file paths. env looks up
// ${NAME} references; nil means an empty environment. On failure the error
// is an Errors holding every problem found.
func Parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	d := newDecoder(name, filepath.Dir(name), env)
	cfg := defaults()
	parsed := d.document(data, cfg)

	// The default console notifier and its route come as a pair: a file
	// that sets either one replaces both.
	_, hasNotifiers := d.lines["notifiers"]
	_, hasRoutes := d.lines["routes"]
	if !hasNotifiers && hasRoutes {
		cfg.Notifiers = nil
	}
	if hasNotifiers && !hasRoutes {
		cfg.Routes = nil
	}

	v := newValidator(name, d.lines, d.errs)
	v.fromEnv = d.fromEnv
	if parsed {
		v.validate(cfg)
		cfg.resolve(v)
	}
	if len(v.errs) > 0 {
		v.errs.sort()
		return nil, v.errs
	}
	cfg.warnings = v.warningStrings()
	return cfg, nil
}
