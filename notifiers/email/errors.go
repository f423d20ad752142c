package email

import (
	"crypto/tls"
	"errors"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/trailguard/trailguard/notifiers"
)

// classify marks err for the dispatcher. SMTP replies say it themselves: 5xx is
// permanent (bad recipient, authentication failed, message refused), 4xx is
// temporary. A certificate the client does not trust, a server without STARTTLS
// or without the configured AUTH mechanism will not change by retrying either.
// Everything else (connection refused, timeouts, resets) is retried.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if c := se.ErrorCode(); c >= 500 && c < 600 {
			return notifiers.Permanent(err)
		}
		return err
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code >= 500 && te.Code < 600 {
			return notifiers.Permanent(err)
		}
		return err
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return notifiers.Permanent(err)
	}
	for _, target := range []error{
		gosmtp.ErrUnencrypted, gosmtp.ErrWrongHostname,
		gomail.ErrPlainAuthNotSupported, gomail.ErrLoginAuthNotSupported,
	} {
		if errors.Is(err, target) {
			return notifiers.Permanent(err)
		}
	}
	// go-mail reports these with fmt.Errorf and no sentinel.
	msg := err.Error()
	if strings.Contains(msg, "does not support STARTTLS") || strings.Contains(msg, "server does not support SMTP AUTH") {
		return notifiers.Permanent(err)
	}
	return err
}
