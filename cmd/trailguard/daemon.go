package main

import (
	"context"
	"errors"
	"io"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	return exitUsage, errors.New("the daemon is not wired yet")
}
