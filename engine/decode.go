package engine

import (
	"errors"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// decodeJSON parses one JSON document straight into OPA's value form.
//
// OPA's own ast.ValueFromReader decodes into map[string]any first and converts
// that, doing the work twice; decoding a CloudTrail record costs as much as
// evaluating it, so the record is decoded once, here, into exactly what the
// evaluator reads. The grammar and the errors (a *jsonscan.SyntaxError) are
// the shared scanner's, which are encoding/json's.
func decodeJSON(data []byte) (ast.Value, error) {
	s := jsonscan.New(data)
	v := decodeValue(&s)
	if v == nil || !s.End() {
		return nil, s.Err()
	}
	return v, nil
}

// decodeKeys decodes a record that is a JSON object (checked whole before)
// with only the top-level members keep names; the others are skipped.
func decodeKeys(data []byte, keep map[string]bool) (ast.Object, error) {
	s := jsonscan.New(data)
	if s.Peek() != '{' {
		return nil, errNotObject
	}
	var buf [24][2]*ast.Term
	members := buf[:0]
	for it := s.Begin(); s.Next(&it); {
		k, ok := s.Key()
		if !ok {
			return nil, s.Err()
		}
		wanted := false
		if k.Plain {
			wanted = keep[string(k.Bytes())] // no allocation: the conversion is in the index
		} else {
			wanted = keep[k.String()]
		}
		if !wanted {
			if !s.Skip() {
				return nil, s.Err()
			}
			continue
		}
		v := decodeValue(&s)
		if v == nil {
			return nil, s.Err()
		}
		members = append(members, [2]*ast.Term{keyTerm(k), ast.NewTerm(v)})
	}
	if s.Failed() || !s.End() {
		return nil, s.Err()
	}
	return objectOf(members), nil
}

var errNotObject = errors.New("not a JSON object")

// decodeValue reads the value at the scanner; nil on an error (s.Err says which).
func decodeValue(s *jsonscan.Scanner) ast.Value {
	switch s.Peek() {
	case '{':
		// Collect the members first: building the object with its final size
		// avoids rehashing as it grows.
		var buf [24][2]*ast.Term
		members := buf[:0]
		for it := s.Begin(); s.Next(&it); {
			k, ok := s.Key()
			if !ok {
				return nil
			}
			v := decodeValue(s)
			if v == nil {
				return nil
			}
			members = append(members, [2]*ast.Term{keyTerm(k), ast.NewTerm(v)})
		}
		if s.Failed() {
			return nil
		}
		return objectOf(members)
	case '[':
		var terms []*ast.Term
		for it := s.Begin(); s.Next(&it); {
			v := decodeValue(s)
			if v == nil {
				return nil
			}
			terms = append(terms, ast.NewTerm(v))
		}
		if s.Failed() {
			return nil
		}
		return ast.NewArray(terms...)
	case '"':
		str, ok := s.ReadString()
		if !ok {
			return nil
		}
		return ast.String(str.String())
	}
	raw, ok := s.Scalar()
	if !ok {
		return nil
	}
	switch raw[0] {
	case 't':
		return ast.Boolean(true)
	case 'f':
		return ast.Boolean(false)
	case 'n':
		return ast.Null{}
	}
	return ast.Number(raw)
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
		"bytesTransferredOut", "SignatureVersion", "CipherSuite", "AuthenticationMethod",
	} {
		m[k] = ast.StringTerm(k)
	}
	return m
}()

func keyTerm(k jsonscan.Str) *ast.Term {
	if !k.Plain {
		return ast.StringTerm(k.String())
	}
	if t, ok := commonKeys[string(k.Bytes())]; ok { // no allocation: the conversion is in the index
		return t
	}
	return ast.StringTerm(string(k.Bytes()))
}
