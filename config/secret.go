package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const redacted = "[redacted]"

// Secret is a string that is never shown: every way of printing, logging
// or marshalling it yields "[redacted]", or "" when it is unset, so a
// Config can be logged whole. Reveal returns the value itself.
type Secret string

// Reveal returns the secret's value, for handing to the client that needs it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is unset.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is String, quoted, for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format implements fmt.Formatter. Without it a verb that bypasses String,
// such as %d or %x, would print the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q' || verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// MarshalJSON renders the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText renders the redacted form (used for map keys and by
// text-based encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML renders the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// secretFile reads the secret held in the file that n names.
func (d *decoder) secretFile(n *yaml.Node, path string, v reflect.Value) {
	if n = d.deref(n); n == nil {
		return
	}
	name, ok := d.text(n, path)
	if !ok {
		return
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.baseDir, name)
	}
	// A name that came from the environment is not shown, as describe says.
	shown := name
	if _, env := d.fromEnv[path]; env {
		shown = d.describe(n)
	}
	b, err := readSecretFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && shown != name {
			err = &fs.PathError{Op: pe.Op, Path: shown, Err: pe.Err}
		}
		d.fail(n.Line, path, err) // *fs.PathError: names the file, not its contents
		return
	}
	if len(b) > maxSecretFile {
		d.failf(n.Line, path, "%s is larger than %d KiB: not a secret (a wrong path?)", shown, maxSecretFile>>10)
		return
	}
	// Files written by editors and `echo` end in a newline that is not
	// part of the secret.
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		d.failf(n.Line, path, "%s is empty", shown)
		return
	}
	v.SetString(s)
}

// secretFiles reads a mapping of names to files, each holding one secret
// (a webhook's headers_file), into the map v.
func (d *decoder) secretFiles(n *yaml.Node, path string, v reflect.Value) {
	if n = d.deref(n); n == nil || !d.isMapping(n, path) {
		return
	}
	m := reflect.MakeMap(v.Type())
	for k, val := range d.pairs(n, path) {
		s := reflect.New(v.Type().Elem()).Elem()
		d.secretFile(val, join(path, k.Value), s)
		if s.String() != "" {
			m.SetMapIndex(reflect.ValueOf(k.Value), s)
		}
	}
	v.Set(m)
}

// maxSecretFile bounds what a *_file key reads: tokens, passwords and webhook
// URLs are short, and a path pointing at a device or a large file by mistake
// (/dev/zero, a log) must not hang start-up or fill the memory.
const maxSecretFile = 64 << 10

// readSecretFile reads up to maxSecretFile+1 bytes of name.
func readSecretFile(name string) ([]byte, error) { return readLimited(name, maxSecretFile) }
