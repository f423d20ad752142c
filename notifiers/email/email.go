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
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
)

// timeout bounds connecting and each SMTP command; the caller's context bounds
// the whole attempt.
const timeout = 30 * time.Second

// Notifier sends alerts by email. It is safe for concurrent use: each Notify
// uses its own connection.
type Notifier struct {
	name        string
	host        string
	addr        string // host:port, for messages
	tlsCfg      *tls.Config
	implicitTLS bool
	from        *mail.Address
	to          []*mail.Address
	opts        []gomail.Option
}

// New returns a Notifier named name sending as cfg says, taken as
// config.Parse validated it: TLS starttls (port 587, go-mail's TLSMandatory:
// a server without STARTTLS is an error), tls (implicit, port 465) or none (a
// relay on localhost, port 25); AUTH PLAIN when Username is set. tlsConfig
// overrides the TLS settings, e.g. RootCAs for a private CA (nil: system
// roots); its ServerName defaults to cfg.Host. New does not connect; call Check.
func New(name string, cfg *config.Email, tlsConfig *tls.Config) (*Notifier, error) {
	n := &Notifier{name: name, host: cfg.Host, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}
	fail := func(err error) (*Notifier, error) { return nil, fmt.Errorf("email %s: %w", name, err) }
	var err error
	if n.from, err = mail.ParseAddress(cfg.From); err != nil {
		return fail(err)
	}
	for _, s := range cfg.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return fail(err)
		}
		n.to = append(n.to, a)
	}
	n.tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		n.tlsCfg = tlsConfig.Clone()
	}
	if n.tlsCfg.ServerName == "" {
		n.tlsCfg.ServerName = cfg.Host
	}
	n.opts = []gomail.Option{gomail.WithTimeout(timeout), gomail.WithTLSConfig(n.tlsCfg), gomail.WithPort(cfg.Port)}
	switch cfg.TLS {
	case config.TLSImplicit:
		n.opts = append(n.opts, gomail.WithSSL())
		n.implicitTLS = true
	case config.TLSNone:
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.Username != "" {
		// go-mail's PLAIN, like net/smtp's, sends the password only over TLS or
		// to localhost; config refuses tls: none to any other host.
		n.opts = append(n.opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password.Reveal()))
	}
	// Build a client once so option errors surface here, not at the first alert.
	if _, err := n.client(); err != nil {
		return fail(err)
	}
	return n, nil
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// client returns a fresh go-mail client: a *gomail.Client keeps the connection
// it dialled, so one per delivery keeps concurrent Notify calls apart.
func (n *Notifier) client(opts ...gomail.Option) (*gomail.Client, error) {
	return gomail.NewClient(n.host, append(slices.Clip(n.opts), opts...)...)
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
