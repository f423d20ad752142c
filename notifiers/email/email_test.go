package email

import (
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	"github.com/trailguard/trailguard/notifiers"
)

func testAlert() *alert.Alert {
	return &alert.Alert{
		RuleID: "opsworkscm.create_server_without_mfa", Title: "OpsWorks CM server created without MFA",
		Severity: alert.High, Description: "Servers should be created by MFA-authenticated principals.",
		Message: `Server <script>alert("x")</script> & co created`,
		Runbook: "https://runbooks.example.com/opsworks?a=1&b=2", References: []string{"https://docs.example.com/x", "javascript:alert(1)"},
		EventID: "3f0c5a4e-1111-2222-3333-444455556666", EventTime: "2024-05-01T10:00:00Z",
		EventSource: "opsworks-cm.amazonaws.com", EventName: "CreateServer", Region: "us-east-1",
		AccountID: "123456789012", Principal: "arn:aws:iam::123456789012:user/mallory\r\nBcc: victim@example.com",
		IdentityType: "IAMUser", SourceIP: "203.0.113.7", UserAgent: "<b>ua</b>",
	}
}

func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return h, port
}

func emailConfig(t *testing.T, srv *fakesmtp.Server, mode string) *config.Email {
	host, port := hostPort(t, srv.Addr)
	return &config.Email{
		Host: host, Port: port, TLS: mode,
		From: "Trailguard <trailguard@example.com>", To: []string{"secops@example.com", "oncall@example.com"},
	}
}

// newNotifier trusts srv's certificate, as the daemon's EmailTLS option would.
func newNotifier(t *testing.T, srv *fakesmtp.Server, cfg *config.Email) *Notifier {
	t.Helper()
	n, err := New("email", cfg, &tls.Config{RootCAs: srv.Pool})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type parsed struct {
	header     mail.Header
	subject    string
	text, html string
}

// parse reads a message the way a mail client would: headers, decoded subject,
// and the decoded parts of the multipart/alternative body.
func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, data)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{header: m.Header, subject: subj}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(part)
		}
		raw, _ := io.ReadAll(r)
		b := strings.ReplaceAll(string(raw), "\r\n", "\n") // SMTP line endings
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.text = b
		case "text/html":
			p.html = b
		}
	}
	return p
}

func TestStartTLSWithAuthPlain(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Username: "alerts", Password: "s3cret"})
	cfg := emailConfig(t, srv, config.TLSStartTLS)
	cfg.Username, cfg.Password = "alerts", "s3cret"
	n := newNotifier(t, srv, cfg)
	if err := n.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := n.Notify(context.Background(), testAlert(), "12 similar alerts suppressed <since> 10:00"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.User != "alerts" || got.From != "trailguard@example.com" ||
		strings.Join(got.To, ",") != "secops@example.com,oncall@example.com" {
		t.Errorf("envelope: tls=%v user=%q from=%q to=%v", got.TLS, got.User, got.From, got.To)
	}

	p := parse(t, got.Data)
	wantSubject := "[HIGH] OpsWorks CM server created without MFA — arn:aws:iam::123456789012:user/mallory Bcc: victim@example.com"
	if p.subject != wantSubject {
		t.Errorf("subject:\n got %q\nwant %q", p.subject, wantSubject)
	}
	if len(p.header["Bcc"]) != 0 {
		t.Errorf("header injection: Bcc = %v", p.header["Bcc"])
	}
	if p.header.Get("Auto-Submitted") != "auto-generated" || p.header.Get("X-Trailguard-Rule") != "opsworkscm.create_server_without_mfa" {
		t.Errorf("headers: %v", p.header)
	}
	if !strings.HasSuffix(p.header.Get("Message-Id"), "@example.com>") {
		t.Errorf("Message-ID %q", p.header.Get("Message-Id"))
	}

	for _, want := range []string{
		"[HIGH] OpsWorks CM server created without MFA\n",
		`Server <script>alert("x")</script> & co created`,
		"Note: 12 similar alerts suppressed <since> 10:00",
		"Who:        arn:aws:iam::123456789012:user/mallory Bcc: victim@example.com (IAMUser)\n",
		"What:       CreateServer on opsworks-cm.amazonaws.com\n",
		"Where:      account 123456789012 in us-east-1\n",
		"Source IP:  203.0.113.7\n",
		"CloudTrail console: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/3f0c5a4e-1111-2222-3333-444455556666\n",
		"Runbook: https://runbooks.example.com/opsworks?a=1&b=2\n",
		"- https://docs.example.com/x\n",
	} {
		if !strings.Contains(p.text, want) {
			t.Errorf("text part lacks %q:\n%s", want, p.text)
		}
	}
	if strings.Contains(p.text, "javascript:") {
		t.Errorf("non-http reference rendered:\n%s", p.text)
	}

	for _, want := range []string{
		"<p>Server &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co created</p>",
		"<em>12 similar alerts suppressed &lt;since&gt; 10:00</em>",
		"<td><code>&lt;b&gt;ua&lt;/b&gt;</code></td>",
		`<a href="https://runbooks.example.com/opsworks?a=1&amp;b=2">Runbook</a>`,
		`<a href="https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/3f0c5a4e-1111-2222-3333-444455556666">View event in CloudTrail</a>`,
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, p.html)
		}
	}
	for _, bad := range []string{"<script>", "<b>ua", "javascript:"} {
		if strings.Contains(p.html, bad) {
			t.Errorf("HTML part contains %q", bad)
		}
	}
}

func TestImplicitTLSWithAuth(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.Implicit, Username: "u", Password: "p"})
	cfg := emailConfig(t, srv, config.TLSImplicit)
	cfg.Username, cfg.Password = "u", "p"
	n := newNotifier(t, srv, cfg)
	if err := n.Notify(context.Background(), testAlert(), ""); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "u" {
		t.Fatalf("messages: %+v", m)
	}
}

func TestNoTLSAgainstPlainServer(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.None})
	n := newNotifier(t, srv, emailConfig(t, srv, config.TLSNone))
	if err := n.Notify(context.Background(), testAlert(), ""); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].TLS {
		t.Fatalf("messages: %+v", m)
	}

	// The default policy demands STARTTLS; a server without it is a configuration
	// error, not a transient one.
	n = newNotifier(t, srv, emailConfig(t, srv, config.TLSStartTLS))
	err := n.Notify(context.Background(), testAlert(), "")
	if !notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("starttls against plain server: %v", err)
	}
}

func TestPermanentFailures(t *testing.T) {
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS})
		n, err := New("email", emailConfig(t, srv, config.TLSStartTLS), nil) // system roots do not know the test CA
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Notify(context.Background(), testAlert(), ""); !notifiers.IsPermanent(err) {
			t.Errorf("err = %v, want permanent", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Username: "u", Password: "right"})
		cfg := emailConfig(t, srv, config.TLSStartTLS)
		cfg.Username, cfg.Password = "u", "wrong-pass-123"
		n := newNotifier(t, srv, cfg)
		for _, err := range []error{n.Check(context.Background()), n.Notify(context.Background(), testAlert(), "")} {
			if !notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "535") {
				t.Errorf("err = %v, want permanent 535", err)
			}
			if strings.Contains(err.Error(), "wrong-pass-123") {
				t.Errorf("password in error: %v", err)
			}
		}
	})
	t.Run("recipient rejected 550", func(t *testing.T) {
		srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.None,
			RejectRcpt: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}})
		n := newNotifier(t, srv, emailConfig(t, srv, config.TLSNone))
		if err := n.Notify(context.Background(), testAlert(), ""); !notifiers.IsPermanent(err) {
			t.Errorf("err = %v, want permanent", err)
		}
	})
	t.Run("recipient deferred 451 is retryable", func(t *testing.T) {
		srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.None,
			RejectRcpt: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}})
		n := newNotifier(t, srv, emailConfig(t, srv, config.TLSNone))
		if err := n.Notify(context.Background(), testAlert(), ""); err == nil || notifiers.IsPermanent(err) {
			t.Errorf("err = %v, want retryable", err)
		}
	})
}

func TestConnectionRefusedThenAccepted(t *testing.T) {
	addr := fakesmtp.FreeAddr(t)
	host, port := hostPort(t, addr)
	n, err := New("email", &config.Email{Host: host, Port: port, TLS: config.TLSNone, From: "a@example.com", To: []string{"b@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), testAlert(), "")
	if err == nil || notifiers.IsPermanent(err) {
		t.Fatalf("refused: err = %v, want retryable", err)
	}
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.None, Addr: addr})
	if err := n.Notify(context.Background(), testAlert(), ""); err != nil {
		t.Fatalf("after start: %v", err)
	}
	if len(srv.Messages()) != 1 {
		t.Fatal("message not recorded")
	}
}

func TestNewTakesTheConfigAsItIs(t *testing.T) {
	n, err := New("mail", &config.Email{Host: "smtp.example.com", Port: 2525, TLS: config.TLSStartTLS,
		From: "a@example.com", To: []string{"b@example.com"}}, nil)
	if err != nil || n.Name() != "mail" || n.addr != "smtp.example.com:2525" || n.tlsCfg.ServerName != "smtp.example.com" {
		t.Errorf("New: %v %+v", err, n)
	}
}

func TestSubjectStripsControlCharacters(t *testing.T) {
	a := &alert.Alert{Severity: alert.Critical, Title: "Root\r\nX-Injected: 1\tlogin", Principal: "\x00arn\u2028x"}
	if got, want := Subject(a), "[CRITICAL] Root X-Injected: 1 login — arn x"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	a.Principal = ""
	a.Title = strings.Repeat("long ", 100)
	if s := Subject(a); len([]rune(s)) > maxSubject || strings.Contains(s, "—") {
		t.Errorf("Subject = %q", s)
	}
}

// A server that accepts and then says nothing: the context, not go-mail's 30s
// timeout, must end the attempt.
func TestContextEndsAStuckConversation(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, silent, until the test ends
		}
	}()
	host, port := hostPort(t, l.Addr().String())
	n, err := New("email", &config.Email{Host: host, Port: port, TLS: config.TLSNone, From: "a@example.com", To: []string{"b@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Notify(ctx, testAlert(), "") }()
	select {
	case err := <-done:
		if err == nil || notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Fatalf("err = %v, want a retryable deadline error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Notify ignored its context")
	}
}
