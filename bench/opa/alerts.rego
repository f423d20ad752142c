# The alerts of every shipped rule for one event, as a single OPA decision:
# what an OPA server deployment of trailguard's rules would be asked
# (POST /v1/data/trailguard/alerts with {"input": EVENT}). The benchmarks load
# it next to rules/ (without the _test.rego files) and data.json.
package trailguard

import rego.v1

alerts contains {"pack": pack, "rule": name, "alert": a} if {
	some pack, name
	some a in data.rules[pack][name].alert
}
