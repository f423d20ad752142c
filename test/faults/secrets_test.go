package faults

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	th "github.com/trailguard/trailguard/internal/testharness"
)

// secret is a credential value no output may contain.
func secret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// leaks lists the forms of s to look for: as is, base64 (SMTP AUTH PLAIN,
// HTTP basic auth) and URL-encoded.
func leaks(s string) []string {
	return []string{s, base64.StdEncoding.EncodeToString([]byte(s)), url.QueryEscape(s)}
}

// The daemon gets a Slack token, an SMTP password and a Redis password from
// its environment (${NAME} in the configuration), and every peer refuses
// them at first: Slack says invalid_auth (auth.test and chat.postMessage),
// the SMTP server 535, Redis WRONGPASS. So the secrets are handed to clients
// whose errors are logged, counted and shown on /readyz. Then Redis, and
// later Slack and SMTP, accept them and the alerts go out once to each
// notifier. No secret, in any common encoding, may appear in the log
// (debug level), /readyz, /metrics, stdout, the Slack messages (other than
// the token field that authenticates the call) or the mails.
func testSecrets(t *testing.T, p *shared) {
	row := newRow(t, 15, "secrets next to failing auth", "Slack token, SMTP and Redis passwords from ${ENV}; Slack answers invalid_auth, SMTP 535, miniredis (requirepass) WRONGPASS, then accept; log level debug")
	slackToken, smtpPass, redisPass := secret(t, "xoxb-faults-"), secret(t, "smtp-"), secret(t, "redis-")

	e := newEnv(t, p, 5)
	sl := fakeslack.New(t)
	sl.SetAuthError("invalid_auth")
	sl.SetDefault(fakeslack.Error("invalid_auth"))
	cert, _ := fakesmtp.SelfSigned(t)
	smtp := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Username: "trailguard", Password: "wrong-" + smtpPass, Cert: &cert})
	mr := miniredis.RunT(t)
	mr.RequireAuth("wrong-" + redisPass)

	d := startDaemon(t, "secrets", e.config(t,
		"notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "${SLACK_BOT_TOKEN}")+
			th.EmailNotifier("email", smtp.Addr, "trailguard", "${SMTP_PASSWORD}")+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [slack, email, console]\n",
		"state:\n  type: redis\n  redis:\n    addr: "+mr.Addr()+"\n    password: \"${REDIS_PASSWORD}\"\n",
	), processEnv(t, pemCert(cert.Leaf),
		"SLACK_BOT_TOKEN="+slackToken, "SMTP_PASSWORD="+smtpPass, "REDIS_PASSWORD="+redisPass))

	var exposed []string // every output of the daemon's that a person or a system could see
	expose := func(what, s string) { exposed = append(exposed, what+"\x00"+s) }
	expose("/readyz at start", d.waitReady(t, http.StatusServiceUnavailable, 15*time.Second,
		"notifiers: slack: slack auth.test: invalid_auth", "notifiers: email: ", "notifiers: state: redis: WRONGPASS"))

	root, denied := th.RootCall(th.Account), th.DeniedCall("frank")
	k := th.LogKey("secrets-")
	e.putLog(t, k, root, denied)
	e.send(t, th.CTNotification(bucket, k))
	// Redis refuses: no claim, nothing sent, the message fails.
	d.waitMetric(t, `trailguard_sqs_messages_failed_total{reason="error"}`, 1, 20*time.Second)
	expose("/metrics, Redis refusing", metricsText(t, d))
	mr.RequireAuth(redisPass)
	// Now the notifiers themselves refuse, permanently: the message fails again.
	d.waitMetric(t, `trailguard_sqs_messages_failed_total{reason="error"}`, 2, 30*time.Second)
	_, ready := d.get(t, "/readyz")
	expose("/readyz, notifiers refusing", ready)
	expose("/metrics, notifiers refusing", metricsText(t, d))
	sl.SetAuthError("")
	sl.SetDefault(fakeslack.OK)
	smtp.SetPassword(smtpPass)

	e.waitDrained(t, 0, 45*time.Second)
	want := []string{th.Key(th.RuleRoot, root), th.Key(th.RuleDenied, denied)}
	c := count(want, slackAlerts(t, sl)).add(count(want, mailAlerts(t, smtp))).add(count(want, stdoutAlerts(t, d.Out.String())))
	row.finish(t, e, c)
	c.check(t, "slack+email+stdout", true)

	expose("/metrics at the end", metricsText(t, d))
	d.Stop(t) // the shutdown's log lines too
	// The refusals were logged: the secrets were handed to clients whose
	// errors went to the log.
	for _, refusal := range []string{"slack auth.test: invalid_auth", "chat.postMessage to C0123456789: invalid_auth", "535 ", "WRONGPASS"} {
		found := ""
		for _, r := range d.Records(t) {
			for _, k := range []string{"error", "err"} {
				s, _ := r[k].(string)
				for _, line := range strings.Split(s, "\n") {
					if found == "" && strings.Contains(line, refusal) {
						found = fmt.Sprintf("%s: %s", r["msg"], line)
					}
				}
			}
		}
		if found == "" {
			t.Errorf("no logged error says %q: the secrets were not tested next to their errors", refusal)
		} else {
			t.Logf("logged refusal: %s", found)
		}
	}
	expose("stderr (log)", d.Log.String())
	expose("stdout (alerts)", d.Out.String())
	for _, f := range sl.Requests() {
		if tok := f.Get("token"); tok != slackToken {
			t.Errorf("Slack got token %q, not the configured one", tok)
		}
		for key, vs := range f {
			if key != "token" { // the credential's own field
				expose("Slack form "+key, strings.Join(vs, "\n"))
			}
		}
	}
	for _, m := range smtp.Messages() {
		if m.User != "trailguard" {
			t.Errorf("mail accepted for user %q", m.User)
		}
		expose("mail", string(m.Data)+"\n"+m.From+"\n"+strings.Join(m.To, "\n"))
	}
	for _, x := range exposed {
		what, text, _ := strings.Cut(x, "\x00")
		for name, s := range map[string]string{"Slack token": slackToken, "SMTP password": smtpPass, "Redis password": redisPass} {
			for _, form := range leaks(s) {
				if i := strings.Index(text, form); i >= 0 {
					t.Errorf("%s appears in %s: …%s…", name, what, text[max(0, i-80):min(len(text), i+len(form)+20)])
				}
			}
		}
	}
	if len(smtp.Messages()) != 2 || len(sl.Posts()) != 2 {
		t.Errorf("%d mails and %d Slack posts, want 2 each", len(smtp.Messages()), len(sl.Posts()))
	}
}

func metricsText(t *testing.T, d *daemon) string {
	t.Helper()
	_, body := d.get(t, "/metrics")
	return body
}
