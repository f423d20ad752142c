package engine

import (
	"maps"
	"slices"
)

// branches are a decision tree node's branches by a value's text (the
// prefilter's decisions, a rule's memo): a few in lists, where comparing a
// text or two costs less than a map's lookup, which on the paths every
// record takes is mostly a wait for memory; more in a map.
type branches[T any] struct {
	keys []string
	vals []T
	m    map[string]T // instead of the lists, past the node's limit
}

// get is the branch for k, or T's zero value. b may be nil.
func (b *branches[T]) get(k []byte) T {
	var zero T
	switch {
	case b == nil:
		return zero
	case b.m != nil:
		return b.m[string(k)] // no allocation: the conversion is in the index
	}
	for i, key := range b.keys {
		if key == string(k) {
			return b.vals[i]
		}
	}
	return zero
}

// with is b (nil: none) and the branch k → v, new; b is left as it is, for
// readers that hold it without a lock (memo.go). The lists hold up to
// listed branches.
func (b *branches[T]) with(k string, v T, listed int) *branches[T] {
	out := new(branches[T])
	switch {
	case b == nil:
		out.keys, out.vals = []string{k}, []T{v}
	case b.m == nil && len(b.keys) < listed:
		out.keys = append(slices.Clip(b.keys), k)
		out.vals = append(slices.Clip(b.vals), v)
	default:
		out.m = maps.Clone(b.m)
		if out.m == nil {
			out.m = make(map[string]T, len(b.keys)+1)
			for i, key := range b.keys {
				out.m[key] = b.vals[i]
			}
		}
		out.m[k] = v
	}
	return out
}
