package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/config"
)

// The secrets the fuzzed configurations can reach: one in the environment (under
// several names), one in a file a *_file key can name.
const (
	envSecret  = "s3cr3t-VALUE-42"
	fileSecret = "f1le-S3CR3T-99"
)

var fuzzEnv = map[string]string{
	"SECRET":          envSecret,
	"SLACK_BOT_TOKEN": envSecret, // as config.example.yaml names them
	"SMTP_PASSWORD":   envSecret,
	"HOST":            "smtp.example.com",
	"PORT":            "587",
	"URL":             "https://hooks.example.com/T/B/x",
	"ADDR":            "localhost:6379",
	"EMPTY":           "",
}

func fuzzLookup(k string) (string, bool) {
	v, ok := fuzzEnv[k]
	return v, ok
}

// secretSlots put $V in every place a value can go, in a configuration that is
// otherwise valid enough for validation to look at that value.
var secretSlots = []string{
	"log: {format: $V}",
	"log: {level: $V}",
	"server: {listen: $V}",
	"source: {type: $V}",
	"source: {type: sqs, sqs: {queue_url: $V}, s3: {allowed_buckets: [b]}}",
	"source: {type: sqs, sqs: {queue_url: 'https://sqs.example.com/q', endpoint: $V, region: $V}, s3: {allowed_buckets: [b]}}",
	"source: {type: sqs, sqs: {queue_url: 'https://sqs.example.com/q', wait_time: $V, max_messages: $V, visibility_timeout: $V, workers: $V}, s3: {allowed_buckets: [b]}}",
	"source: {type: sqs, sqs: {queue_url: 'https://sqs.example.com/q'}, s3: {endpoint: $V, region: $V, path_style: $V, allowed_buckets: [$V, $V]}}",
	"source: {type: dir, dir: {path: $V, watch: $V}}",
	"filter: {event_sources: [$V]}",
	"rules: {paths: [$V], packs: [$V, $V]}",
	"rules: {data: {known_networks: [$V], other: {x: [$V]}}}",
	"rules: {data: {known_networks: $V}}",
	"notifiers: [{name: $V, type: stdout}, {name: $V, type: stdout}]\nroutes: [{notifiers: [$V]}]",
	"notifiers: [{name: n, type: $V}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: slack, slack: {token: $V, channel: $V, api_url: $V}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: slack, slack: {webhook_url: $V, channel: c}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: slack, slack: {token_file: $V, channel: c}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: slack, slack: {webhook_url_file: token}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: slack, slack: {token_file: token, webhook_url: $V}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: email, email: {host: $V, port: $V, tls: $V, username: $V, password: $V, from: $V, to: [$V]}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: email, email: {host: h, port: 25, tls: none, username: u, password_file: $V, from: a@example.com, to: [b@example.com]}}]\nroutes: [{notifiers: [n]}]",
	"notifiers: [{name: n, type: stdout}]\nroutes: [{match: {min_severity: $V, rules: [$V], event_sources: [$V], accounts: [$V]}, notifiers: [n, $V]}]",
	"dedup: {window: $V, key: [$V, $V]}",
	"suppressions: [{rule: $V, where: {principal: $V, $V: x}, reason: $V, owner: $V, expires: $V}]",
	"state: {type: $V}",
	"state: {type: redis, redis: {addr: $V, password: $V, db: $V}}",
	"state: {type: redis, redis: {addr: $V, password_file: $V}}",
}

// secretValues are ways of writing the secret into a value.
var secretValues = []string{`"${SECRET}"`, `x${SECRET}y`, `"${SECRET}:1"`, `"[${SECRET}"`, `"host:${SECRET}"`, `token`}

func configSeeds(f *testing.F) []string {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		string(example),
		"",
		"---\n",
		"log: {level: debug}\n---\nlog: {level: info}\n",
		"[1, 2]",
		"log: [\n",
		"log:\n  level: ${SECRET\n",
		"log:\n  level: ${1BAD}\n",
		"log:\n  level: ${UNSET}\n",
		"log:\n  ${SECRET}: info\n",
		"log:\n  format: $${SECRET}\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nrules: {data: {c: [*b, *b]}}\n",
		"notifiers: &n [{name: n, type: stdout}]\nroutes: [{notifiers: [n]}]\nx: *n\n",
		"log: {level: info, level: debug}\n",
		"server:\n  listen: \"${HOST}:${PORT}\"\n",
	}
	for _, slot := range secretSlots {
		for _, v := range secretValues {
			seeds = append(seeds, strings.ReplaceAll(slot, "$V", v)+"\n")
		}
	}
	return seeds
}

// FuzzConfig parses arbitrary YAML with a fixed environment holding a secret,
// and a secret file beside the configuration. Parse must not panic; its errors
// are Errors, each with a line; and neither secret may show in an error, nor,
// once parsed, in the configuration printed or marshalled, unless the file put
// it in a value that is not a Secret.
func FuzzConfig(f *testing.F) {
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(fileSecret+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600); err != nil {
		f.Fatal(err)
	}
	name := filepath.Join(dir, "fuzz.yaml")
	for _, s := range configSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(name, data, fuzzLookup)
		// The file itself may spell a secret out; then it is no leak.
		checkLeaks := !spellsOut(data, envSecret) && !spellsOut(data, fileSecret)

		if err != nil {
			if cfg != nil {
				t.Fatalf("%q: a configuration with the error %v", data, err)
			}
			var es config.Errors
			if !errors.As(err, &es) || reflect.TypeOf(err) != reflect.TypeOf(es) || len(es) == 0 {
				t.Fatalf("%q: error %T %v, want a non-empty config.Errors", data, err, err)
			}
			lines := yamlLines(data)
			for _, e := range es {
				if e == nil || e.Err == nil || e.File != name || e.Line < 0 || e.Line > lines+1 {
					t.Fatalf("%q: problem %#v (the file has %d lines)", data, e, lines)
				}
			}
			if checkLeaks {
				for _, out := range []string{err.Error(), fmt.Sprintf("%v %+v %s", err, err, err)} {
					for _, secret := range []string{envSecret, fileSecret} {
						if strings.Contains(out, secret) {
							t.Fatalf("%q: the error shows the secret %q:\n%s", data, secret, out)
						}
					}
				}
			}
			return
		}

		if cfg == nil {
			t.Fatalf("%q: neither a configuration nor an error", data)
		}
		if !checkLeaks {
			return
		}
		var outs []string
		outs = append(outs, fmt.Sprintf("%v %+v", cfg, cfg), fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg))
		for _, n := range cfg.Notifiers {
			outs = append(outs, fmt.Sprintf("%v %+v %#v", n, n, n))
			if n.Slack != nil {
				outs = append(outs, fmt.Sprintf("%v %+v %#v", *n.Slack, *n.Slack, *n.Slack))
			}
			if n.Email != nil {
				outs = append(outs, fmt.Sprintf("%v %+v %#v", *n.Email, *n.Email, *n.Email))
			}
		}
		outs = append(outs, fmt.Sprintf("%v %+v %#v", cfg.State.Redis, cfg.State.Redis, cfg.State.Redis))
		j, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("%q: json.Marshal: %v", data, err)
		}
		outs = append(outs, string(j), strings.Join(cfg.Warnings(), "\n"))

		// A secret the file put in a plain value (a channel, a host) is no
		// longer secret; one that reached only Secret fields must not show.
		plain := plainStrings(reflect.ValueOf(cfg), nil)
		for _, secret := range []string{envSecret, fileSecret} {
			if containsAny(plain, secret) {
				continue
			}
			for _, out := range outs {
				if strings.Contains(out, secret) {
					t.Fatalf("%q: the parsed configuration shows the secret %q:\n%s", data, secret, out)
				}
			}
		}
	})
}

// yamlLines counts lines as YAML 1.1 (and yaml.v3) break them: at LF, CR,
// CRLF, NEL, LS and PS.
func yamlLines(data []byte) int {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	n := 1
	for _, sep := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		n += strings.Count(s, sep)
	}
	return n
}

// spellsOut reports whether data holds enough of secret (six bytes of it in a
// row) to have written it out itself, through YAML's escapes or line joins.
func spellsOut(data []byte, secret string) bool {
	for i := 0; i+6 <= len(secret); i++ {
		if bytes.Contains(data, []byte(secret[i:i+6])) {
			return true
		}
	}
	return false
}

func containsAny(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

var (
	secretType = reflect.TypeFor[config.Secret]()
	timeType   = reflect.TypeFor[time.Time]()
)

// plainStrings collects every string in v outside Secret fields: map keys and
// values, list entries, unexported fields (the warnings) included.
func plainStrings(v reflect.Value, out []string) []string {
	if v.Type() == secretType || v.Type() == timeType {
		return out
	}
	switch v.Kind() {
	case reflect.String:
		out = append(out, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = plainStrings(v.Elem(), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			out = plainStrings(v.Field(i), out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			out = plainStrings(v.Index(i), out)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			out = plainStrings(it.Key(), out)
			out = plainStrings(it.Value(), out)
		}
	}
	return out
}
