package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// validator checks a decoded Config as a whole, reporting with the lines
// the decoder recorded.
type validator struct {
	file     string
	lines    map[string]int
	fromEnv  map[string]string // values that came from the environment: see show
	failed   []string          // paths the decoder already reported
	errs     Errors
	warnings Errors
	notes    Errors // what the configuration implies, said so that nobody is surprised
	now      time.Time
}

func newValidator(file string, lines map[string]int, decodeErrs Errors) *validator {
	v := &validator{file: file, lines: lines, errs: decodeErrs, now: time.Now()}
	for _, e := range decodeErrs {
		if e.Path != "" {
			v.failed = append(v.failed, e.Path)
		}
	}
	return v
}

// line returns the line of path or, when the key is absent from the file,
// of its closest ancestor that is present.
func (v *validator) line(p string) int {
	for ; p != ""; p = parent(p) {
		if l, ok := v.lines[p]; ok {
			return l
		}
	}
	return 0
}

func (v *validator) errorf(p, format string, args ...any) {
	// A value that failed to decode kept its default; complaining about
	// that default as well would only repeat the problem.
	for _, f := range v.failed {
		if within(p, f) || within(f, p) {
			return
		}
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: v.line(p), Path: p, Err: fmt.Errorf(format, args...)})
}

// show quotes the value val of path p for a message or, when it came from
// the environment and so may be a secret, the text the file wrote instead.
func (v *validator) show(p, val string) string {
	if text, ok := v.fromEnv[p]; ok {
		return fmt.Sprintf("%q (value not shown)", text)
	}
	return strconv.Quote(val)
}

func (v *validator) warnf(p, format string, args ...any) {
	v.warnings = append(v.warnings, &Error{File: v.file, Line: v.line(p), Path: p, Err: fmt.Errorf(format, args...)})
}

func (v *validator) notef(p, format string, args ...any) {
	v.notes = append(v.notes, &Error{File: v.file, Line: v.line(p), Path: p, Err: fmt.Errorf(format, args...)})
}

// warningStrings returns the warnings in line order, formatted like errors.
func (v *validator) warningStrings() []string {
	v.warnings.sort()
	var ws []string
	for _, w := range v.warnings {
		ws = append(ws, w.Error())
	}
	return ws
}

// parent strips the last ".key" or "[i]" from a path.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// within reports whether path p is anc or lies under it.
func within(p, anc string) bool {
	if !strings.HasPrefix(p, anc) {
		return false
	}
	return len(p) == len(anc) || p[len(anc)] == '.' || p[len(anc)] == '['
}

func (v *validator) validate(c *Config) {
	if c.Log.Format != FormatJSON && c.Log.Format != FormatText {
		v.errorf("log.format", "expected json or text, got %s", v.show("log.format", c.Log.Format))
	}
	v.hostPort("server.listen", c.Server.Listen)
	v.source(c.Source)
	v.nonEmpty("filter.event_sources", c.Filter.EventSources)
	v.rules(c.Rules)
	v.routes(c.Routes, v.notifiers(c.Notifiers))
	v.unrouted(c.Notifiers, c.Routes)
	v.dedup(c.Dedup)
	v.suppressions(c.Suppressions)
	v.state(c.State)
	v.history(c.History)
	v.web(c.Server)
}

func (v *validator) source(s Source) {
	switch s.Type {
	case SourceSQS:
		q := s.SQS
		if q.QueueURL == "" {
			v.errorf("source.sqs.queue_url", "required when source.type is sqs")
		} else {
			v.httpURL("source.sqs.queue_url", q.QueueURL)
		}
		v.optionalURL("source.sqs.endpoint", q.Endpoint)
		// The limits are SQS's own; beyond them ReceiveMessage fails.
		if q.WaitTime < time.Second || q.WaitTime > 20*time.Second {
			v.errorf("source.sqs.wait_time", "must be between 1s and 20s (long polling), got %s", q.WaitTime)
		}
		if q.MaxMessages < 1 || q.MaxMessages > 10 {
			v.errorf("source.sqs.max_messages", "must be between 1 and 10, got %d", q.MaxMessages)
		}
		if q.VisibilityTimeout < 2*time.Second || q.VisibilityTimeout > 12*time.Hour {
			v.errorf("source.sqs.visibility_timeout", "must be between 2s and 12h, got %s", q.VisibilityTimeout)
		}
		if q.MaxHold < time.Second || q.MaxHold > 12*time.Hour {
			v.errorf("source.sqs.max_hold", "must be between 1s and 12h, got %s", q.MaxHold)
		} else if q.MaxHold < q.VisibilityTimeout && q.VisibilityTimeout <= 12*time.Hour {
			v.errorf("source.sqs.max_hold", "must be at least source.sqs.visibility_timeout (%s), got %s: a message is held that long without any extension", q.VisibilityTimeout, q.MaxHold)
		}
		if q.Workers < 1 || q.Workers > MaxWorkers {
			// Each worker holds a log's read buffers (about 170 KiB, plus up to
			// a record's 1 MiB) and an S3 connection: past this, memory grows,
			// not throughput, which S3 and the notifiers bound long before.
			v.errorf("source.sqs.workers", "must be between 1 and %d, got %d (each worker holds a log's buffers and an S3 connection; more adds memory, not throughput)", MaxWorkers, q.Workers)
		}
		v.s3(s.S3, SourceSQS)
	case SourceLambda:
		v.s3(s.S3, SourceLambda)
	case SourceDir:
		if s.Dir.Path == "" {
			v.errorf("source.dir.path", "required when source.type is dir")
		}
	default:
		v.errorf("source.type", "expected sqs, dir or lambda, got %s", v.show("source.type", s.Type))
	}
}

// s3 checks the bucket block of the sources that read log objects (typ).
func (v *validator) s3(b S3, typ string) {
	v.optionalURL("source.s3.endpoint", b.Endpoint)
	// Notifications name the bucket to read; without an allow-list
	// anyone able to send to the queue could point trailguard anywhere.
	if len(b.AllowedBuckets) == 0 {
		v.errorf("source.s3.allowed_buckets", "at least one bucket is required when source.type is %s", typ)
	}
	v.nonEmpty("source.s3.allowed_buckets", b.AllowedBuckets)
	for i, name := range b.AllowedBuckets {
		// Exact names only: a wildcard would let whoever can send to the
		// queue make trailguard read any bucket its credentials reach.
		if strings.ContainsAny(name, "*?[]") {
			v.errorf(fmt.Sprintf("source.s3.allowed_buckets[%d]", i), "%s is a pattern; list the buckets by their exact names (wildcards are refused: a forged notification could then name any bucket the credentials can read)", v.show(fmt.Sprintf("source.s3.allowed_buckets[%d]", i), name))
		}
	}
	if b.ReadTimeout < time.Second || b.ReadTimeout > time.Hour {
		v.errorf("source.s3.read_timeout", "must be between 1s and 1h, got %s", b.ReadTimeout)
	}
}

func (v *validator) rules(r Rules) {
	v.nonEmpty("rules.paths", r.Paths)
	v.nonEmpty("rules.sigma", r.Sigma)
	v.nonEmpty("rules.packs", r.Packs)
	v.unique("rules.packs", r.Packs)
	if r.EvalTimeout < time.Millisecond || r.EvalTimeout > time.Minute {
		v.errorf("rules.eval_timeout", "must be between 1ms and 1m, got %s (one record's evaluation against every rule takes well under 1ms)", r.EvalTimeout)
	}
	if r.Evaluator != "plan" && r.Evaluator != "topdown" {
		v.errorf("rules.evaluator", "must be plan or topdown, got %q", r.Evaluator)
	}
	if _, ok := r.Data["rules"]; ok {
		v.errorf("rules.data.rules", `"rules" is reserved: the policies themselves live under data.rules`)
	}

	const p = "rules.data.known_networks"
	var networks []any
	if kn, ok := r.Data["known_networks"]; ok && kn != nil {
		if networks, ok = kn.([]any); !ok {
			v.errorf(p, "expected a list of CIDR blocks such as 203.0.113.0/24")
		}
	}
	for i, n := range networks {
		s, _ := n.(string)
		if _, err := netip.ParsePrefix(s); err != nil {
			pi := fmt.Sprintf("%s[%d]", p, i)
			got := fmt.Sprint(n)
			if _, env := v.fromEnv[pi]; env {
				got = v.show(pi, got)
			}
			v.errorf(pi, "expected a CIDR block such as 203.0.113.0/24, got %s", got)
		}
	}
	// Whether known_networks is empty is for the engine to say: policy
	// directories and data files can provide it too.
}

func (v *validator) state(s State) {
	if s.DeliveredTTL < time.Hour || s.DeliveredTTL > 365*24*time.Hour {
		v.errorf("state.delivered_ttl", "must be between 1h and 8760h (365 days), got %s", s.DeliveredTTL)
	} else if s.DeliveredTTL < DefaultDeliveredTTL {
		v.warnf("state.delivered_ttl", "%s is shorter than 14 days: a message redriven from a dead-letter queue after that may notify again; keep it at least as long as the DLQ's retention", s.DeliveredTTL)
	}
	switch s.Type {
	case StateMemory, StateSQLite:
	case StateRedis:
		if s.Redis.Addr == "" {
			v.errorf("state.redis.addr", "required when state.type is redis")
		} else {
			v.hostPort("state.redis.addr", s.Redis.Addr)
		}
		if s.Redis.DB < 0 {
			v.errorf("state.redis.db", "must not be negative, got %d", s.Redis.DB)
		}
	default:
		v.errorf("state.type", "expected memory, redis or sqlite, got %s", v.show("state.type", s.Type))
	}
}

func (v *validator) nonEmpty(p string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.errorf(fmt.Sprintf("%s[%d]", p, i), "must not be empty")
		}
	}
}

func (v *validator) unique(p string, list []string) {
	for i, s := range list {
		if j := slices.Index(list, s); j < i {
			pi := fmt.Sprintf("%s[%d]", p, i)
			v.errorf(pi, "%s is already listed", v.show(pi, s))
		}
	}
}

func (v *validator) hostPort(p, addr string) {
	_, port, err := net.SplitHostPort(addr) // an empty host means every interface
	if _, env := v.fromEnv[p]; env {
		// Neither err nor the port may be shown: they quote the value.
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			v.errorf(p, "expected host:port with a port from 0 to 65535, got %s", v.show(p, addr))
		}
		return
	}
	if err != nil {
		v.errorf(p, "expected host:port: %w", err)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.errorf(p, "invalid port %q in %q", port, addr)
	}
}

func (v *validator) optionalURL(p, s string) {
	if s != "" {
		v.httpURL(p, s)
	}
}

func (v *validator) httpURL(p, s string) {
	if !isHTTPURL(s) {
		v.errorf(p, "expected an http(s) URL, got %s", v.show(p, s))
	}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
