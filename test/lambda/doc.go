// Package lambda tests trailguard's serverless mode end to end: the binary is
// built once, named bootstrap and started without arguments, as Lambda's
// provided.al2023 runtime starts it, with AWS_LAMBDA_RUNTIME_API pointing at
// a loopback server in the shape of the Lambda Runtime API
// (internal/fakelambda). That server hands it SQS batches whose messages
// name log objects in gofakes3; alerts go to a Slack-shaped recorder,
// delivery claims to a real redis-server. The tests check what the function
// answers (the partial batch response), what reached Slack, the init error
// Lambda is told about, and the cold start.
//
// There is no non-test code here: everything is in the _test.go files.
//
//	go test -race -count=1 ./test/lambda/
package lambda
