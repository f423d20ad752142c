package engine

import (
	"reflect"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
)

// TestLazyObjectReadsAsDecoded reads every member of nested objects through
// lazyObject, in several orders, and compares each with the record decoded
// whole: index notes the members of every nested object in one scan, and
// the offsets of each level are in its own text.
func TestLazyObjectReadsAsDecoded(t *testing.T) {
	docs := []string{
		`{"a":1,"b":{"c":"x","d":{"e":[{"f":1}],"g":{}},"h":null},"i":"j"}`,
		`{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/r"},"attributes":{"mfaAuthenticated":"false"}},"arn":"x"},"eventName":"E"}`,
		`{"k":{"a":1,"a":{"b":2}},"k":{"a":{"c":"last"},"z":true}}`,        // repeated keys: the last one counts
		`{"o":{"k\u0065y":"escaped key","q\"uote":{"in\\ner":"v\u00e9"}}}`, // escapes in keys and values
		` { "s" : { "t" : { "u" : "spaced" } , "v" : [ 1 , { "w" : 2 } ] } } `,
		`{"deep":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":"r"}}}}}}}}}}}}}}}}}}`,
		`{"wide":{"m0":0,"m1":{"x":1},"m2":2,"m3":{"x":3},"m4":4,"m5":5,"m6":6,"m7":7,"m8":8,"m9":9,"m10":10,"m11":11,"m12":12,"m13":13,"m14":14,"m15":15,"m16":{"x":16},"m17":17,"m18":{"y":{"z":18}}}}`,
	}
	for _, doc := range docs {
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		want := v.(ast.Object)
		for _, reverse := range []bool{false, true} {
			lazy := newLazyTerm([]byte(doc)).Value.(*lazyObject)
			compareLazy(t, doc, "", want, lazy, reverse)

			// As DecodeRecord makes it: the members of the record and of
			// the objects the prefilter walked into, noted by walkObject.
			p := &prefilter{paths: &pathTrie{}}
			for _, path := range [][]string{
				{"b", "d", "e"}, {"userIdentity", "sessionContext", "sessionIssuer", "type"}, {"k", "a", "c"},
				{"o", "q\"uote", "in\\ner"}, {"s", "t", "u"}, {"deep", "a", "b", "c", "d", "e"}, {"wide", "m18", "y"},
			} {
				p.paths.insert(path, &p.nPaths)
			}
			vals, err := p.extract([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			top, nested := vals.takeTop(true)
			vals.release()
			compareLazy(t, doc, "", want, newLazyInput(cloudtrail.Record{Raw: []byte(doc)}, top, nested).lazy, reverse)
		}
	}
}

func compareLazy(t *testing.T, doc, path string, want ast.Object, got *lazyObject, reverse bool) {
	t.Helper()
	keys := want.Keys()
	if reverse {
		for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
			keys[i], keys[j] = keys[j], keys[i]
		}
	}
	for _, k := range keys {
		name := string(k.Value.(ast.String))
		w := want.Get(k)
		if s, ok := w.Value.(ast.String); ok {
			if text, isStr := got.textOK(name); !isStr || text != string(s) {
				t.Errorf("%s: text %s.%s = %q, %v; want %q", doc, path, name, text, isStr, s)
			}
		}
		g := got.member(name)
		if g == nil {
			t.Errorf("%s: %s.%s missing", doc, path, name)
			continue
		}
		if sub, ok := g.Value.(*lazyObject); ok {
			wantSub, isObj := w.Value.(ast.Object)
			if !isObj {
				t.Errorf("%s: %s.%s is an object, want %v", doc, path, name, w)
				continue
			}
			compareLazy(t, doc, path+"."+name, wantSub, sub, reverse)
			if sub.Whole().Compare(wantSub) != 0 {
				t.Errorf("%s: %s.%s whole = %v, want %v", doc, path, name, sub.Whole(), wantSub)
			}
			continue
		}
		if ast.Compare(g.Value, w.Value) != 0 {
			t.Errorf("%s: %s.%s = %v, want %v", doc, path, name, g, w)
		}
	}
	if got.member("absent") != nil {
		t.Errorf("%s: %s.absent found", doc, path)
	}
}

// TestLazyEventFields holds an alert's event fields read from a lazy record
// (one pass over its members) to those read from the decoded record (a
// search for each), escaped keys, repeated keys and other types included.
func TestLazyEventFields(t *testing.T) {
	docs := []string{
		`{"eventID":"e1","eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","recipientAccountId":"111","sourceIPAddress":"198.51.100.1","userAgent":"ua","errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111:user/a","accountId":"222"}}`,
		`{"eventID":"e1","eventID":"e2","eventName":"A","eventName":7,"userIdentity":{"type":"Root"},"userIdentity":{"type":"AssumedRole","type":"Role","accountId":"333"}}`,
		`{"eventID":1,"eventTime":null,"awsRegion":["x"],"userIdentity":"not an object","recipientAccountId":""}`,
		`{"even\u0074ID":"escaped","eventID":"plain","userIdentity":{"t\u0079pe":"escaped type","arn":""}}`,
		`{"userIdentity":{"type":"AWSService","invokedBy":"lambda.amazonaws.com","accountId":"444"},"recipientAccountId":"555"}`,
		`{}`,
	}
	for _, doc := range docs {
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var want, got alert.Alert
		fillEventFields(&want, v)
		fillEventFields(&got, newLazyTerm([]byte(doc)).Value)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", doc, got, want)
		}
	}
}

// TestResultOfValue holds the plan's reading of an alert object to the
// reading of its JSON form, as OPA's evaluator returns it.
func TestResultOfValue(t *testing.T) {
	for _, src := range []string{
		`{}`,
		`{"message": "m", "severity": "high", "dedup_key": "k"}`,
		`{"message": 3, "severity": ["x"], "dedup_key": null, "session": "s", "count": 12, "ratio": 1.5, "ok": true, "gone": null}`,
		`{"list": [1, "a", {"b": null}], "obj": {"z": 1, "a": [true]}, "message": "m"}`,
		`{1: "number key", "message": "m", "k": "v"}`,
		`{["composite", "key"]: 1, "message": "m"}`,
	} {
		v := ast.MustParseTerm(src).Value
		got, err := resultOfValue(v)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		j, err := ast.JSON(v)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if want := resultOfMap(j.(map[string]any)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", src, got, want)
		}
	}
	if _, err := resultOfValue(ast.String("not an object")); err == nil {
		t.Error("a string was read as an alert object")
	}
}

// newLazyTerm is the term of a lazily read object of its own.
func newLazyTerm(raw []byte) *ast.Term { return (*recordInput)(nil).newLazyTerm(raw) }
