package glob

import (
	"errors"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"opsworkscm.*", "opsworkscm.create_server_without_mfa", true},
		{"opsworkscm.*", "aws.root_login", false},
		// '/' is an ordinary character: * crosses it.
		{"arn:aws:iam::*", "arn:aws:iam::123456789012:role/admin/x", true},
		{"arn:aws:iam::*:role/*", "arn:aws:iam::1:role/a/b", true},
		{"*/admin", "role/ops/admin", true},
		{"1234*", "123456789012", true},
		{"1234*", "999956789012", false},
		{"12345678901?", "123456789012", true},
		{"[0-9]*", "7", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{"*.amazonaws.com", "s3.amazonaws.com", true},
		{"s3.amazonaws.com", "s3.amazonaws.com.evil", false}, // whole string only
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
		g, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		if g.Match(tt.s) != tt.want || g.String() != tt.pattern {
			t.Errorf("Compile(%q) = %q, Match(%q) = %v", tt.pattern, g, tt.s, g.Match(tt.s))
		}
	}
}

func TestCompileRejectsBadSyntax(t *testing.T) {
	// A bad pattern must be an error even though it would not match anyway.
	for _, p := range []string{"[a-", "[x", `a\`, "a[/"} {
		if _, err := Compile(p); !errors.Is(err, ErrBadPattern) {
			t.Errorf("Compile(%q) error = %v, want ErrBadPattern", p, err)
		}
		if Match(p, "a") {
			t.Errorf("Match(%q) matched", p)
		}
	}
}
