package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func setupVersion(_ *flag.FlagSet, std stdio) action {
	return func(context.Context, []string) (int, error) {
		fmt.Fprintln(std.out, versionString())
		return exitOK, nil
	}
}

func versionString() string {
	opa := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/open-policy-agent/opa" {
				opa = d.Version
			}
		}
	}
	return fmt.Sprintf("trailguard %s (OPA %s)", version, opa)
}
