package engine

import "bytes"

// keyIndex finds a member of a record by its key in a probe or two, where
// lazyObject.find compares the key with the members' one by one from the
// last: a candidate record's top-level members are found dozens of times
// (each rule's reads, each memo lookup), and CloudTrail's most read keys
// (eventSource, eventName, userIdentity) come first in its records, so the
// scan from the last passes most of the record each time. Built on the first
// find of a record; not used (the scan decides) when a key has escapes or
// the record has more members than the index holds.
type keyIndex struct {
	state keyIndexState
	// slots are open-addressed by keyHash: a member's index + 1, 0 empty.
	slots [keySlots]uint8
}

type keyIndexState uint8

const (
	keysUnbuilt keyIndexState = iota
	keysBuilt
	keysUnusable
)

const (
	keySlots    = 128 // a power of two, at least twice keyIndexMax: probes stay short
	keyIndexMax = 64  // members; a record has about 20
)

// keyHash spreads CloudTrail's keys, many of the same length and first
// letter (eventName, eventTime, eventType), over the slots; a collision costs
// only a comparison more.
func keyHash[T string | []byte](k T) uint {
	n := uint(len(k))
	if n == 0 {
		return 0
	}
	return n*131 + uint(k[0])*31 + uint(k[n/2])*7 + uint(k[n-1])
}

// build indexes o's members (o is the record's own object, already indexed).
func (x *keyIndex) build(o *lazyObject) {
	x.state = keysUnusable
	if len(o.members) > keyIndexMax {
		return
	}
	for i := range o.members {
		m := &o.members[i]
		if !m.plain {
			x.slots = [keySlots]uint8{}
			return
		}
		quoted := o.raw[m.k0:m.k1]
		for h := keyHash(quoted[1 : len(quoted)-1]); ; h++ {
			s := &x.slots[h%keySlots]
			if *s == 0 {
				*s = uint8(i + 1)
				break
			}
			if p := &o.members[*s-1]; bytes.Equal(o.raw[p.k0:p.k1], quoted) {
				*s = uint8(i + 1) // a repeated key: the last one counts, as in find
				break
			}
		}
	}
	x.state = keysBuilt
}

// find is lazyObject.find through the index: the member under key k, or -1.
func (x *keyIndex) find(o *lazyObject, k string) int {
	for h := keyHash(k); ; h++ {
		s := x.slots[h%keySlots]
		if s == 0 {
			return -1
		}
		if o.members[s-1].is(o.raw, k) {
			return int(s - 1)
		}
	}
}
