package rules_test

import (
	"regexp"
	"strings"
	"testing"
)

// threatsIDs are the rules of the threats pack, one per attacker behaviour.
var threatsIDs = []string{
	// defense evasion
	"threats.cloudtrail_event_selectors_weakened",
	"threats.flow_logs_deleted",
	"threats.dns_query_logging_deleted",
	"threats.bedrock_invocation_logging_disabled",
	"threats.guardduty_disabled",
	"threats.security_group_open_to_world",
	// credential access
	"threats.ec2_password_data_retrieved",
	"threats.secrets_batch_retrieved",
	"threats.ssm_parameters_bulk_decrypted",
	"threats.ec2_user_data_read",
	"threats.secrets_bulk_read",
	"threats.instance_credentials_second_network",
	// discovery
	"threats.denied_calls_burst",
	// initial access
	"threats.console_login_new_network",
	// execution
	"threats.ssm_send_command",
	"threats.ssm_start_session",
	"threats.ec2_user_data_modified",
	"threats.sagemaker_lifecycle_config_changed",
	"threats.lambda_code_updated",
	"threats.lambda_layer_added",
	// persistence and privilege escalation
	"threats.iam_access_key_for_other_user",
	"threats.iam_login_profile_for_other_user",
	"threats.iam_role_trust_outside",
	"threats.lambda_permission_outside",
	"threats.sts_federation_token",
	"threats.identity_provider_added",
	// exfiltration
	"threats.snapshot_shared_outside",
	"threats.s3_bucket_opened",
	"threats.kms_key_policy_outside",
	// lateral movement
	"threats.ec2_ssh_key_pushed",
	"threats.ec2_serial_console_enabled",
	// impact
	"threats.ec2_gpu_instances_launched",
	"threats.bedrock_model_access_enabled",
	"threats.s3_objects_encrypted_with_customer_key",
}

// TestRuleIDs (rules_test.go) checks wantIDs; the threats pack's ids are kept
// here, beside the pack's other checks.
func init() { wantIDs = append(wantIDs, threatsIDs...) }

var (
	tacticRE    = regexp.MustCompile(`^TA[0-9]{4}$`)
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	// Enterprise ATT&CK's tactics (v15+); Reconnaissance and Resource
	// Development have no CloudTrail view and are not expected here.
	tactics = map[string]bool{
		"TA0001": true, "TA0002": true, "TA0003": true, "TA0004": true, "TA0005": true,
		"TA0006": true, "TA0007": true, "TA0008": true, "TA0009": true, "TA0010": true,
		"TA0011": true, "TA0040": true,
	}
)

// TestAttackMetadata checks custom.attack, the structured ATT&CK mapping: a
// list of {tactic, technique} with well-formed ids, mandatory for the threats
// pack. (Validation of the ids against MITRE's table is the engine's job.)
func TestAttackMetadata(t *testing.T) {
	mapped := 0
	for p, m := range ruleModules(t) {
		a := packageAnnotations(m)
		if a == nil {
			continue // TestRuleLayout reports it
		}
		raw, ok := a.Custom["attack"]
		if !ok {
			if strings.HasPrefix(p, "threats/") {
				t.Errorf("%s: no custom.attack", p)
			}
			continue
		}
		list, ok := raw.([]any)
		if !ok || len(list) == 0 {
			t.Errorf("%s: custom.attack must be a non-empty list, got %v", p, raw)
			continue
		}
		mapped++
		for i, e := range list {
			entry, ok := e.(map[string]any)
			if !ok || len(entry) != 2 {
				t.Errorf("%s: custom.attack[%d] must be {tactic, technique}, got %v", p, i, e)
				continue
			}
			tactic, _ := entry["tactic"].(string)
			technique, _ := entry["technique"].(string)
			if !tacticRE.MatchString(tactic) || !tactics[tactic] {
				t.Errorf("%s: custom.attack[%d].tactic %q is not an Enterprise ATT&CK tactic id", p, i, tactic)
			}
			if !techniqueRE.MatchString(technique) {
				t.Errorf("%s: custom.attack[%d].technique %q is not a technique id like T1562 or T1562.008", p, i, technique)
			}
		}
	}
	if mapped < len(threatsIDs)+20 {
		t.Errorf("only %d rules carry custom.attack", mapped)
	}
}
