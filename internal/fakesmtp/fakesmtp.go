// Package fakesmtp runs a real SMTP server (emersion/go-smtp) in-process for
// tests, with optional STARTTLS or implicit TLS on a self-signed certificate and
// AUTH PLAIN, recording every message it accepts. It is used by tests only.
package fakesmtp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"

	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of the server.
const (
	StartTLS = "starttls" // plain listener advertising STARTTLS
	Implicit = "tls"      // TLS from the first byte
	None     = "none"     // no TLS at all
)

// Options configure a server.
type Options struct {
	TLS string // StartTLS, Implicit or None (default None)
	// Username and Password, when set, make AUTH PLAIN mandatory.
	Username, Password string
	// Addr to listen on; default 127.0.0.1:0. Tests of "connection refused, then
	// accepted" reserve a port with FreeAddr and start the server on it later.
	Addr string
	// RejectRcpt, when set, is the reply to every RCPT TO (e.g. a 550).
	RejectRcpt *smtp.SMTPError
	// Cert, when set, is the server certificate (from SelfSigned), so that a
	// client can be made to trust a server that is started later; default a
	// new self-signed one.
	Cert *tls.Certificate
}

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	User string // authenticated user, if any
	TLS  bool
	Data []byte
}

// Server is a running SMTP server.
type Server struct {
	Addr string
	// Cert is the server certificate; Pool trusts it (for a client's RootCAs).
	Cert tls.Certificate
	Pool *x509.CertPool

	opts Options
	srv  *smtp.Server
	mu   sync.Mutex
	msgs []Message
	pass string // the password AUTH accepts; see SetPassword
}

// Start starts a server; it is closed when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	var cert tls.Certificate
	var pool *x509.CertPool
	if opts.Cert != nil {
		cert = *opts.Cert
		pool = x509.NewCertPool()
		pool.AddCert(cert.Leaf)
	} else {
		cert, pool = SelfSigned(t)
	}
	s := &Server{Cert: cert, Pool: pool, opts: opts, pass: opts.Password}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 50
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("fakesmtp: listen: %v", err)
	}
	switch opts.TLS {
	case StartTLS:
		srv.TLSConfig = tlsCfg
	case Implicit:
		srv.TLSConfig = tlsCfg
		l = tls.NewListener(l, tlsCfg)
	}
	s.srv, s.Addr = srv, l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// FreeAddr returns a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// SetPassword changes the password AUTH accepts from now on (the server
// must have been started with a Username): a test of a client whose
// credentials are refused, then accepted, without restarting either.
func (s *Server) SetPassword(password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pass = password
}

// Messages returns the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, tls: isTLS, conn: c}, nil
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	tls  bool
	user string
	msg  Message
}

func (s *session) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.srv.mu.Lock()
		want := s.srv.pass
		s.srv.mu.Unlock()
		if username != s.srv.opts.Username || password != want {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.msg = Message{From: from, User: s.user, TLS: isTLS}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.opts.RejectRcpt != nil {
		return s.srv.opts.RejectRcpt
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

// SelfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that
// trusts it.
func SelfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fakesmtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
