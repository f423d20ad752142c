package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decodeJSON parses one JSON document straight into OPA's value form.
//
// OPA's own ast.ValueFromReader decodes into map[string]any first and converts
// that, doing the work twice; decoding a CloudTrail record costs as much as
// evaluating it, so the record is decoded once, here, into exactly what the
// evaluator reads. The grammar is RFC 8259, strictly: what encoding/json
// refuses, this refuses.
func decodeJSON(data []byte) (ast.Value, error) {
	d := decoder{data: data}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// maxDecodeDepth bounds recursion; the reader refuses deeper records before
// they get here, so this is only a guard for other callers.
const maxDecodeDepth = 10000

// DecodeError locates a syntax error in a record.
type DecodeError struct {
	Offset int // byte offset of the problem in the record
	Msg    string
}

func (e *DecodeError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Offset) }

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) errorf(format string, args ...any) error {
	return &DecodeError{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (ast.Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of JSON input")
	}
	if depth > maxDecodeDepth {
		return nil, d.errorf("JSON nested too deep")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return ast.String(s), nil
	case c == 't':
		return d.literal("true", ast.Boolean(true))
	case c == 'f':
		return d.literal("false", ast.Boolean(false))
	case c == 'n':
		return d.literal("null", ast.Null{})
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, d.errorf("invalid character %q looking for beginning of value", c)
	}
}

func (d *decoder) literal(word string, v ast.Value) (ast.Value, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return nil, d.errorf("invalid literal, want %s", word)
	}
	d.pos += len(word)
	return v, nil
}

func (d *decoder) object(depth int) (ast.Value, error) {
	d.pos++ // '{'
	d.skipSpace()
	// Collect the members first: building the object with its final size avoids
	// rehashing as it grows.
	var buf [24][2]*ast.Term
	members := buf[:0]
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return ast.NewObject(), nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			if d.pos >= len(d.data) {
				return nil, d.errorf("unexpected end of JSON input")
			}
			return nil, d.errorf("invalid character %q looking for beginning of object key string", d.data[d.pos])
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':' after object key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		members = append(members, [2]*ast.Term{keyTerm(k), ast.NewTerm(v)})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of JSON input")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return objectOf(members), nil
		default:
			return nil, d.errorf("invalid character %q after object key:value pair", d.data[d.pos])
		}
	}
}

// objectOf builds an object; a key given twice keeps its last value, as
// encoding/json does.
func objectOf(members [][2]*ast.Term) ast.Object {
	obj := ast.NewObjectWithCapacity(len(members))
	for _, m := range members {
		obj.Insert(m[0], m[1])
	}
	return obj
}

func (d *decoder) array(depth int) (ast.Value, error) {
	d.pos++ // '['
	d.skipSpace()
	var terms []*ast.Term
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return ast.NewArray(), nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		terms = append(terms, ast.NewTerm(v))
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of JSON input")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return ast.NewArray(terms...), nil
		default:
			return nil, d.errorf("invalid character %q after array element", d.data[d.pos])
		}
	}
}

// str reads a string at d.pos (which is '"').
func (d *decoder) str() (string, error) {
	if b, ok := d.plainStr(); ok {
		return string(b), nil
	}
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			// invalid bytes become U+FFFD, as encoding/json does
			return string([]rune(string(d.data[start:i]))), nil
		case c == '\\':
			return d.escapedStr(start)
		case c < 0x20:
			d.pos = i
			return "", d.errorf("invalid character %q in string literal", c)
		}
	}
	d.pos = len(d.data)
	return "", d.errorf("unexpected end of JSON input in string")
}

// plainStr reads a string at d.pos (which is '"') that needs no decoding, no
// escapes and valid UTF-8, as almost every CloudTrail string is, and returns
// its bytes; ok is false, and d.pos unchanged, for any other.
func (d *decoder) plainStr() (b []byte, ok bool) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			if !utf8.Valid(d.data[start:i]) {
				return nil, false
			}
			d.pos = i + 1
			return d.data[start:i], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// escapedStr is the slow path for strings with escapes: find the end, then let
// encoding/json unquote it (it is rare in CloudTrail records).
func (d *decoder) escapedStr(start int) (string, error) {
	i := start
	for i < len(d.data) {
		switch c := d.data[i]; {
		case c == '\\':
			i += 2
			continue
		case c == '"':
			var s string
			if err := json.Unmarshal(d.data[start-1:i+1], &s); err != nil {
				d.pos = start - 1
				return "", d.errorf("invalid string: %v", err)
			}
			d.pos = i + 1
			return s, nil
		case c < 0x20:
			d.pos = i
			return "", d.errorf("invalid character %q in string literal", c)
		}
		i++
	}
	d.pos = len(d.data)
	return "", d.errorf("unexpected end of JSON input in string")
}

var errNumber = errors.New("invalid number")

func (d *decoder) number() (ast.Value, error) {
	start := d.pos
	i := d.pos
	if d.data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case digits() == 0:
		d.pos = i
		return nil, d.errorf("%v", errNumber)
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if digits() == 0 {
			d.pos = i
			return nil, d.errorf("%v", errNumber)
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return nil, d.errorf("%v", errNumber)
		}
	}
	d.pos = i
	return ast.Number(d.data[start:i]), nil
}

// commonKeys are CloudTrail's field names, made once: most keys of every
// record are among them, and a shared term costs no allocation.
var commonKeys = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, k := range []string{
		"eventVersion", "userIdentity", "type", "principalId", "arn", "accountId", "accessKeyId", "userName",
		"sessionContext", "attributes", "creationDate", "mfaAuthenticated", "sessionIssuer", "webIdFederationData",
		"invokedBy", "identityProvider", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
		"userAgent", "requestParameters", "responseElements", "additionalEventData", "requestID", "eventID",
		"readOnly", "resources", "ARN", "eventType", "apiVersion", "managementEvent", "recipientAccountId",
		"sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "eventCategory", "tlsDetails", "tlsVersion",
		"cipherSuite", "clientProvidedHostHeader", "errorCode", "errorMessage", "sourceIdentity", "serviceEventDetails",
		"insightDetails", "addendum", "sessionCredentialFromConsole", "edgeDeviceDetails", "inScopeOf", "MFAUsed",
		"LoginTo", "MobileVersion", "ConsoleLogin", "CredentialType", "SamlProviderArn", "serverName", "maxResults",
		"bucketName", "Host", "key", "name", "value", "instancesSet", "items", "instanceId", "roleArn", "roleSessionName",
		"credentials", "expiration", "sessionToken", "assumedRoleUser", "assumedRoleId", "policyArn", "roleName",
		"groupId", "groupName", "ipPermissions", "filterSet", "requestId", "x-amz-id-2", "bytesTransferredIn",
		"bytesTransferredOut", "SignatureVersion", "CipherSuite", "AuthenticationMethod", "x-amz-id-2",
	} {
		m[k] = ast.StringTerm(k)
	}
	return m
}()

func keyTerm(k string) *ast.Term {
	if t, ok := commonKeys[k]; ok {
		return t
	}
	return ast.StringTerm(k)
}

// skip passes over one JSON value, checking it as strictly as value would but
// building nothing: how the prefilter reads past the fields no rule looks at
// and still knows the record is valid JSON.
func (d *decoder) skip(depth int) error {
	if d.pos >= len(d.data) {
		return d.errorf("unexpected end of JSON input")
	}
	if depth > maxDecodeDepth {
		return d.errorf("JSON nested too deep")
	}
	switch d.data[d.pos] {
	case '{':
		d.pos++
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == '}' {
			d.pos++
			return nil
		}
		for {
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return d.errorf("expected an object key")
			}
			if err := d.skipString(); err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return d.errorf("expected ':' after object key")
			}
			d.pos++
			d.skipSpace()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.data) {
				return d.errorf("unexpected end of JSON input")
			}
			switch d.data[d.pos] {
			case ',':
				d.pos++
				d.skipSpace()
			case '}':
				d.pos++
				return nil
			default:
				return d.errorf("invalid character %q after object key:value pair", d.data[d.pos])
			}
		}
	case '[':
		d.pos++
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.data) {
				return d.errorf("unexpected end of JSON input")
			}
			switch d.data[d.pos] {
			case ',':
				d.pos++
				d.skipSpace()
			case ']':
				d.pos++
				return nil
			default:
				return d.errorf("invalid character %q after array element", d.data[d.pos])
			}
		}
	case '"':
		return d.skipString()
	default:
		_, err := d.value(depth) // literals and numbers: nothing to allocate
		return err
	}
}

// skipString passes over a string at d.pos, checking its escapes and that it
// holds no control characters.
func (d *decoder) skipString() error {
	i := d.pos + 1
	for {
		// Find the next quote fast; then look at what lies before it.
		q := bytes.IndexByte(d.data[i:], '"')
		if q < 0 {
			d.pos = len(d.data)
			return d.errorf("unexpected end of JSON input in string")
		}
		seg := d.data[i : i+q]
		bs := bytes.IndexByte(seg, '\\')
		if bs < 0 {
			for j, c := range seg {
				if c < 0x20 {
					d.pos = i + j
					return d.errorf("invalid character %q in string literal", c)
				}
			}
			d.pos = i + q + 1
			return nil
		}
		for j, c := range seg[:bs] {
			if c < 0x20 {
				d.pos = i + j
				return d.errorf("invalid character %q in string literal", c)
			}
		}
		// An escape: check it, then go on after it.
		e := i + bs + 1
		if e >= len(d.data) {
			d.pos = len(d.data)
			return d.errorf("unexpected end of JSON input in string")
		}
		switch d.data[e] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i = e + 1
		case 'u':
			if e+4 >= len(d.data) || !isHex(d.data[e+1]) || !isHex(d.data[e+2]) || !isHex(d.data[e+3]) || !isHex(d.data[e+4]) {
				d.pos = e
				return d.errorf("invalid \\u escape in string literal")
			}
			i = e + 5
		default:
			d.pos = e
			return d.errorf("invalid escape %q in string literal", d.data[e])
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
