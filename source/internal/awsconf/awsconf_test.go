package awsconf

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// The client follows 307 (method and body kept) but hands a 301 back to the
// SDK, as the SDK's own client does, and its idle connections can be closed.
func TestLoadClient(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/temporary":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusMovedPermanently)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c, err := Load(context.Background(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-west-1" {
		t.Errorf("region %q", c.Region)
	}
	for path, want := range map[string]int{"/temporary": http.StatusNoContent, "/moved": http.StatusMovedPermanently} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+path, nil)
		resp, err := c.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("PUT %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// Kept connections are reused until closed; then a new one is dialled.
	before := conns.Load()
	c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ok", nil)
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if conns.Load() != before+1 {
		t.Errorf("%d connections after closing the idle ones, want %d", conns.Load(), before+1)
	}
}
