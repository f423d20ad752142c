package config

import (
	"net"
	"time"
)

// Web is the read-only triage page served on server.listen: at most one of
// a bearer token or a username and password guards it (none: whoever
// reaches the listener reads the alerts, which is why it listens on
// loopback by default).
type Web struct {
	Enabled     bool   `yaml:"enabled" json:"enabled"`           // default true
	BearerToken Secret `yaml:"bearer_token" json:"bearer_token"` // or bearer_token_file
	Username    string `yaml:"username" json:"username"`         // basic auth, with password
	Password    Secret `yaml:"password" json:"password"`         // or password_file
}

// History is the record of every alert handled, which the web page reads.
// It lives in the state backend (memory, the SQLite file, or Redis).
type History struct {
	MaxAge    time.Duration `yaml:"max_age" json:"max_age"`       // 1m..8760h; default 168h (7 days)
	MaxAlerts int           `yaml:"max_alerts" json:"max_alerts"` // 100..10000000; default 10000 (about 60 MiB in SQLite)
}

// MaxHistoryAlerts bounds history.max_alerts.
const MaxHistoryAlerts = 10_000_000

func (v *validator) history(h History) {
	if h.MaxAge < time.Minute || h.MaxAge > 365*24*time.Hour {
		v.errorf("history.max_age", "must be between 1m and 8760h, got %s", h.MaxAge)
	}
	if h.MaxAlerts < 100 || h.MaxAlerts > MaxHistoryAlerts {
		v.errorf("history.max_alerts", "must be between 100 and %d, got %d", MaxHistoryAlerts, h.MaxAlerts)
	}
}

func (v *validator) web(s Server) {
	w := s.Web
	if w.BearerToken != "" && (w.Username != "" || w.Password != "") {
		v.errorf("server.web.bearer_token", "set a bearer token or a username and password, not both")
	}
	if (w.Username == "") != (w.Password == "") {
		v.errorf("server.web.username", "username and password go together (basic auth)")
	}
	if !w.Enabled || w.BearerToken != "" || w.Username != "" {
		return
	}
	if host, _, err := net.SplitHostPort(s.Listen); err == nil && !loopbackHost(host) {
		v.warnf("server.web", "the web page on %s has no authentication: anyone who reaches it reads the alerts (set server.web.bearer_token_file or username and password_file)", s.Listen)
	}
}

// loopbackHost reports whether a listener on host is reachable from this
// machine only (an empty host is every interface).
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
