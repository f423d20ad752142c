package engine

// CandidateRules lists the rules in.Rules' query evaluates (nil: every rule),
// for tests to see that the prefilter's per-rule answer was used.
func (in *Input) CandidateRules() [][2]string {
	if in.rules == nil {
		return nil
	}
	return in.rules.Rules
}
