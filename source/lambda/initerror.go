package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// InitErrorType is the errorType of what InitError reports.
const InitErrorType = "Runtime.TrailguardInitError"

// InitError tells the Runtime API at api (host:port) that the function
// could not start (POST /2018-06-01/runtime/init/error), so the reason, such
// as a configuration error naming its file and line, is what Lambda reports
// for the failed invocation and not only a bare exit status. aws-lambda-go
// has no call for it: it starts talking to the Runtime API only once a
// handler is ready.
func InitError(ctx context.Context, api string, cause error) error {
	body, err := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{cause.Error(), InitErrorType})
	if err != nil {
		return fmt.Errorf("lambda init error: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + api + "/2018-06-01/runtime/init/error"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("lambda init error: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", InitErrorType)
	// The Runtime API is local: never through a proxy, as aws-lambda-go's
	// own client does.
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("lambda init error: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("lambda init error: %s answered %s", url, resp.Status)
	}
	return nil
}
