// Package email sends alerts by SMTP (go-mail): one message per alert with a
// plain-text and an HTML part, over STARTTLS, implicit TLS or (for a local relay)
// no TLS, with optional AUTH PLAIN or LOGIN.
package email

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

// TLS modes.
const (
	// StartTLS connects in plain text and requires the server to upgrade with
	// STARTTLS (go-mail's TLSMandatory); a server without it is an error. Port 587.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS speaks TLS from the first byte ("SMTPS"). Port 465.
	ImplicitTLS TLSMode = "tls"
	// NoTLS never encrypts; for a relay on localhost or a trusted network. Port 25.
	NoTLS TLSMode = "none"
)

// Auth mechanisms.
const (
	AuthPlain = "plain"
	AuthLogin = "login"
)

// Config configures the notifier. Host, From and To are required.
type Config struct {
	// Name identifies the notifier in routes, state and metrics; default "email".
	Name string

	Host string
	// Port defaults by TLS mode: 587 (starttls), 465 (tls), 25 (none).
	Port int
	// TLS defaults to StartTLS.
	TLS TLSMode
	// TLSConfig overrides the TLS settings, e.g. RootCAs for a private CA. Its
	// ServerName defaults to Host.
	TLSConfig *tls.Config

	// Username enables SMTP AUTH with Password, by AuthMech: AuthPlain (default)
	// or AuthLogin. Neither is ever logged.
	Username string
	Password string
	AuthMech string
	// AllowInsecureAuth permits AUTH over a connection without TLS (TLS: none) to a
	// host other than localhost, which sends the password in clear.
	AllowInsecureAuth bool

	From string   // "Trailguard <trailguard@example.com>"
	To   []string // one or more recipients

	// HELO is the name sent in EHLO; default go-mail's (the local host name).
	HELO string
	// Timeout bounds connecting and each SMTP command; default 30s.
	Timeout time.Duration
}

// Notifier sends alerts by email. It is safe for concurrent use: each Notify
// uses its own connection.
type Notifier struct {
	name        string
	cfg         Config
	addr        string // host:port, for messages
	tlsCfg      *tls.Config
	implicitTLS bool
	from        *mail.Address
	to          []*mail.Address
	opts        []gomail.Option
}

// New validates cfg and returns a Notifier. It does not connect; call Check.
func New(cfg Config) (*Notifier, error) {
	n := &Notifier{name: cfg.Name, cfg: cfg}
	if n.name == "" {
		n.name = "email"
	}
	fail := func(format string, args ...any) (*Notifier, error) {
		return nil, fmt.Errorf("email %s: "+format, append([]any{n.name}, args...)...)
	}
	if cfg.Host == "" {
		return fail("host is required")
	}
	var err error
	if n.from, err = mail.ParseAddress(cfg.From); err != nil {
		return fail("from %q: %w", cfg.From, err)
	}
	if len(cfg.To) == 0 {
		return fail("at least one recipient (to) is required")
	}
	for _, s := range cfg.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return fail("to %q: %w", s, err)
		}
		n.to = append(n.to, a)
	}

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = cfg.Host
	}
	n.tlsCfg = tlsCfg
	n.opts = []gomail.Option{gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsCfg)}

	mode, port := cfg.TLS, cfg.Port
	if mode == "" {
		mode = StartTLS
	}
	switch mode {
	case StartTLS:
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = cmp(port, 587)
	case ImplicitTLS:
		n.opts = append(n.opts, gomail.WithSSL())
		n.implicitTLS = true
		port = cmp(port, 465)
	case NoTLS:
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = cmp(port, 25)
	default:
		return fail("tls %q: want starttls, tls or none", cfg.TLS)
	}
	n.opts = append(n.opts, gomail.WithPort(port))
	n.addr = net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	if cfg.HELO != "" {
		n.opts = append(n.opts, gomail.WithHELO(cfg.HELO))
	}

	if cfg.Username != "" {
		// go-mail's *NoEnc mechanisms are the ones that agree to run without TLS;
		// the plain ones refuse unless the server is localhost.
		insecure := mode == NoTLS && cfg.AllowInsecureAuth
		if mode == NoTLS && !cfg.AllowInsecureAuth && !isLoopback(cfg.Host) {
			return fail("refusing to send the password without TLS (tls: none); set allow_insecure_auth to override")
		}
		var mech gomail.SMTPAuthType
		switch strings.ToLower(cfg.AuthMech) {
		case "", AuthPlain:
			mech = pick(insecure, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthPlain)
		case AuthLogin:
			mech = pick(insecure, gomail.SMTPAuthLoginNoEnc, gomail.SMTPAuthLogin)
		default:
			return fail("auth %q: want plain or login", cfg.AuthMech)
		}
		n.opts = append(n.opts, gomail.WithSMTPAuth(mech),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	// Build a client once so option errors surface here, not at the first alert.
	if _, err := n.client(); err != nil {
		return fail("%w", err)
	}
	return n, nil
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// client returns a fresh go-mail client: a *gomail.Client keeps the connection
// it dialled, so one per delivery keeps concurrent Notify calls apart.
func (n *Notifier) client(opts ...gomail.Option) (*gomail.Client, error) {
	return gomail.NewClient(n.cfg.Host, append(slices.Clip(n.opts), opts...)...)
}

// connect dials, negotiates TLS and authenticates. go-mail watches ctx only
// while dialling; so that ctx also bounds the conversation (a server that
// stops answering mid-DATA, a shutdown), the connection is closed when ctx
// ends. close ends the session (QUIT) and releases that watch.
func (n *Notifier) connect(ctx context.Context) (c *gomail.Client, sc *gosmtp.Client, close func(), err error) {
	var mu sync.Mutex
	var conn net.Conn
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var cn net.Conn
		var err error
		if n.implicitTLS {
			// With a dial function of ours go-mail leaves implicit TLS to us.
			cn, err = (&tls.Dialer{NetDialer: d, Config: n.tlsCfg}).DialContext(dctx, network, addr)
		} else {
			cn, err = d.DialContext(dctx, network, addr)
		}
		if err == nil {
			mu.Lock()
			conn = cn
			mu.Unlock()
		}
		return cn, err
	}
	if c, err = n.client(gomail.WithDialContextFunc(dial)); err != nil {
		return nil, nil, nil, fmt.Errorf("smtp: %w", err)
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if conn != nil {
			_ = conn.Close()
		}
	})
	if sc, err = c.DialToSMTPClientWithContext(ctx); err != nil {
		stop()
		mu.Lock()
		if conn != nil {
			_ = conn.Close()
		}
		mu.Unlock()
		return nil, nil, nil, classify(fmt.Errorf("smtp: connect to %s: %w", n.addr, ctxErr(ctx, err)))
	}
	return c, sc, func() {
		_ = c.CloseWithSMTPClient(sc)
		stop()
	}, nil
}

// ctxErr adds ctx's cause to err when ctx ended: the error go-mail reports for a
// closed connection does not say why it was closed.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return err
}

// Notify implements notifiers.Notifier: one connection, one message, one attempt.
func (n *Notifier) Notify(ctx context.Context, a *alert.Alert, note string) error {
	msg, err := n.message(a, note)
	if err != nil {
		return err
	}
	c, sc, closeConn, err := n.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	if err := c.SendWithSMTPClient(sc, msg); err != nil {
		return classify(fmt.Errorf("smtp: send: %w", ctxErr(ctx, err)))
	}
	return nil
}

// Check implements notifiers.Checker: it connects, negotiates TLS and
// authenticates, then quits, so a wrong port, certificate or password is
// reported at start-up.
func (n *Notifier) Check(ctx context.Context) error {
	_, _, closeConn, err := n.connect(ctx)
	if err != nil {
		return err
	}
	closeConn()
	return nil
}

var (
	_ notifiers.Notifier = (*Notifier)(nil)
	_ notifiers.Checker  = (*Notifier)(nil)
)
