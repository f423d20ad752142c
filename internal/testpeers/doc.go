// Package testpeers starts real protocol peers for tests, offline and on
// 127.0.0.1 only: fauxqs (an SQS emulator, run under Node.js from
// test/fauxqs) and gofakes3 (an in-process S3), plus a TCP proxy that can be
// switched off to simulate an unreachable endpoint.
//
// Every helper takes a testing.TB, fails the test on error and cleans up
// after itself with t.Cleanup. Code under test that builds AWS clients from
// the default configuration chain needs [AWSEnv] first.
package testpeers
