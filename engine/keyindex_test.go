package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// TestKeyIndexIsFind: a record's members found through its key index are
// those the scan from the last member finds, for every key of the record and
// keys it lacks: repeated keys (the last counts), keys that collide, keys with
// escapes (the scan decides), the empty key, more members than the index
// holds; and for random records over a small alphabet, which repeat and
// collide keys often.
func TestKeyIndexIsFind(t *testing.T) {
	many := make([]string, keyIndexMax+1)
	for i := range many {
		many[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	docs := []string{
		`{}`,
		`{"eventName":"A","eventTime":"t","eventType":"x","eventName":"B","awsRegion":"r","eventName":"C"}`,
		`{"":1,"a":2,"":3}`,
		`{"eventSource":"s","even\u0074Name":"escaped","eventName":"plain"}`,
		`{"ab":1,"ba":2,"aab":3,"aba":4,"baa":5,"ab":6}`,
		`{` + strings.Join(many, ",") + `}`,
		`{` + strings.Join(many[:keyIndexMax], ",") + `}`,
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		b.WriteByte('{')
		for i := range rnd.IntN(40) {
			if i > 0 {
				b.WriteByte(',')
			}
			key := make([]byte, rnd.IntN(4))
			for j := range key {
				key[j] = "abe"[rnd.IntN(3)]
			}
			fmt.Fprintf(&b, `%q:%d`, key, i)
		}
		b.WriteByte('}')
		docs = append(docs, b.String())
	}
	probes := []string{"", "a", "b", "e", "aa", "ab", "ba", "abe", "eventName", "eventname", "eventNam", "eventNamee", "k0", "k64", "zz"}
	for _, doc := range docs {
		r := newRecordInput()
		r.obj = *newLazyTerm([]byte(doc)).Value.(*lazyObject)
		r.obj.in = r
		keys := append([]string(nil), probes...)
		r.obj.index()
		for _, m := range r.obj.members {
			keys = append(keys, jsonscan.Str{Quoted: r.obj.raw[m.k0:m.k1]}.String())
		}
		for _, k := range keys {
			if got, want := r.obj.find(k), r.obj.scan(k); got != want {
				t.Fatalf("%s: key %q found at %d, the scan finds %d", doc, k, got, want)
			}
		}
		if len(r.obj.members) <= keyIndexMax && !strings.Contains(doc, `\u`) && r.keys.state != keysBuilt {
			t.Fatalf("%s: no index built (state %d)", doc, r.keys.state)
		}
		r.in.pooled = r
		r.in.Release()
	}
}
