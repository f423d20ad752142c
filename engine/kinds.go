package engine

import "slices"

// StatefulKinds names each rule's stateful kind: threshold, distinct (a
// threshold on distinct values), new_value, sequence (a rule other rules
// are steps of), signal; "" for a rule on single events.
func StatefulKinds(list []Rule) map[string]string {
	kinds := map[string]string{}
	for _, r := range list {
		sf := r.Stateful
		switch {
		case sf == nil:
		case sf.Threshold != nil && sf.Threshold.Distinct != "":
			kinds[r.ID] = "distinct"
		case sf.Threshold != nil:
			kinds[r.ID] = "threshold"
		case sf.NewValue != nil:
			kinds[r.ID] = "new_value"
		case sf.Signal:
			kinds[r.ID] = "signal"
		}
		if sf == nil {
			continue
		}
		// Sequences and counters have no candidates of their own: they are
		// known from the rules they gather.
		seqs := slices.Clone(sf.StepOf)
		for _, c := range sf.CountedBy {
			kinds[c.Rule.ID] = "threshold"
			if c.Threshold.Distinct != "" {
				kinds[c.Rule.ID] = "distinct"
			}
			seqs = append(seqs, c.Then...)
		}
		for len(seqs) > 0 {
			seq := seqs[0]
			seqs = append(seqs[1:], seq.Then...)
			kinds[seq.Rule.ID] = "sequence"
		}
	}
	return kinds
}
