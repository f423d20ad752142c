package testpeers

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Region is the region every test peer and test client uses.
const Region = "us-east-1"

// AWSEnv points the AWS SDK's default configuration chain at fixed test
// credentials, so code under test can call config.LoadDefaultConfig and
// never probes the instance-metadata address or reads the developer's own
// ~/.aws files. It uses t.Setenv, so the test must not be parallel.
func AWSEnv(t testing.TB) {
	t.Helper()
	for k, v := range awsEnv(filepath.Join(t.TempDir(), "no-aws-config")) {
		t.Setenv(k, v)
	}
}

// AWSEnviron is what AWSEnv sets, as NAME=value pairs for the environment
// of a child process (a daemon under test run as its own process), sorted.
// It changes nothing in this process, so parallel tests may use it. The
// AWS config and credentials files point at dir/no-aws-config, which must
// not exist.
func AWSEnviron(dir string) []string {
	env := awsEnv(filepath.Join(dir, "no-aws-config"))
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func awsEnv(none string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":                "test",
		"AWS_SECRET_ACCESS_KEY":            "test",
		"AWS_SESSION_TOKEN":                "",
		"AWS_REGION":                       Region,
		"AWS_DEFAULT_REGION":               Region,
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  none,
		"AWS_SHARED_CREDENTIALS_FILE":      none,
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
		"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
	}
}

// awsConfig is the configuration of the helpers' own clients. It does not
// depend on the environment, so helpers work in parallel tests too.
func awsConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "testpeers"}, nil
		})),
		// gofakes3 stores aws-chunked framing verbatim unless checksums are
		// only sent when an operation requires them (see shared/TESTING.md).
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	)
	if err != nil {
		t.Fatalf("testpeers: load AWS config: %v", err)
	}
	return cfg
}
