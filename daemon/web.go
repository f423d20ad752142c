package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/web"
)

// mountWeb serves the triage page at / (and its API under /api/) beside
// /metrics and the health checks, when server.web.enabled.
func (d *Daemon) mountWeb(mux *http.ServeMux) error {
	wc := d.cfg.Server.Web
	if !wc.Enabled {
		return nil
	}
	var sups []web.Suppression
	for _, s := range d.cfg.Suppressions {
		sups = append(sups, web.Suppression{Rule: s.Rule, Where: s.Where, Reason: s.Reason, Owner: s.Owner, Expires: s.Expires})
	}
	h, err := web.New(web.Options{
		History:      d.notify.history,
		Rules:        func() []web.Rule { return webRules(d.engines.Engine()) },
		Suppressions: sups,
		Health:       d.webHealth,
		BearerToken:  wc.BearerToken.Reveal(),
		Username:     wc.Username,
		Password:     wc.Password.Reveal(),
		Logger:       d.log,
	})
	if err != nil {
		return err
	}
	mux.Handle("/", h)
	return nil
}

// webURL is the page's address on listen (host:port): an empty or
// unspecified host is every interface, reachable on this machine as
// localhost.
func webURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen + "/"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func webRules(e *engine.Engine) []web.Rule {
	if e == nil {
		return nil
	}
	var out []web.Rule
	rules := e.Rules()
	kinds := engine.StatefulKinds(rules)
	for _, r := range rules {
		out = append(out, web.Rule{ID: r.ID, Title: r.Title, Description: r.Description, Severity: r.Severity, Pack: r.Pack,
			Tags: r.Tags, Runbook: r.Runbook, References: r.References, Attack: r.Attack, File: r.File, Stateful: kinds[r.ID]})
	}
	return out
}

// webHealth is /readyz's answer with the facts behind it. No secret is in
// it: queue URLs and paths are not secrets, tokens are not shown.
func (d *Daemon) webHealth(ctx context.Context) web.Health {
	c := d.cfg
	src := c.Source.Type
	switch c.Source.Type {
	case config.SourceSQS:
		src += " " + c.Source.SQS.QueueURL
	case config.SourceDir:
		src += " " + c.Source.Dir.Path
	}
	var ns []string
	for _, n := range c.Notifiers {
		ns = append(ns, n.Name+" ("+n.Type+")")
	}
	st := c.State.Type
	if st == config.StateRedis {
		st += " " + c.State.Redis.Addr
	}
	if st == config.StateSQLite {
		st += " " + c.State.SQLite.Path
	}
	rules := 0
	if e := d.engines.Engine(); e != nil {
		rules = len(e.Rules())
	}
	reload, _ := d.lastReload.Load().(time.Time)
	return web.Health{
		Problems: d.readiness(ctx),
		Facts: []web.Fact{
			{Name: "source", Value: src},
			{Name: "notifiers", Value: strings.Join(ns, ", ")},
			{Name: "state backend", Value: st},
			{Name: "alert history", Value: fmt.Sprintf("kept %s, at most %d alerts", c.History.MaxAge, c.History.MaxAlerts)},
			{Name: "rules loaded", Value: fmt.Sprint(rules)},
			{Name: "last policy load", Value: reload.UTC().Format(time.RFC3339)},
		},
	}
}
