package rules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/notifiers/dispatch"
)

// stratusDir holds the 35 AWS detonation logs of Stratus Red Team (see its
// NOTICE): one JSON array of CloudTrail records per technique.
const stratusDir = "testdata/stratus"

// stratusWant is, for each detonation log, the exact set of rules of the
// opsworkscm, aws and threats packs that fire on it. A rule id followed by
// "!" must raise at least one alert of severity medium or higher there.
var stratusWant = map[string][]string{
	"aws.credential-access.ec2-get-password-data":                 {"threats.ec2_password_data_retrieved!", "aws.unauthorized_api_call"},
	"aws.credential-access.ec2-steal-instance-credentials":        {"threats.ssm_send_command!"}, // the setup step; the stolen session is used from the attacker's network only, so no second network
	"aws.credential-access.secretsmanager-batch-retrieve-secrets": {"threats.secrets_batch_retrieved!"},
	"aws.credential-access.secretsmanager-retrieve-secrets":       {"threats.secrets_bulk_read!"}, // 20 distinct secrets in 4s
	"aws.credential-access.ssm-retrieve-securestring-parameters":  {"threats.ssm_parameters_bulk_decrypted!"},
	"aws.defense-evasion.cloudtrail-delete":                       {"aws.cloudtrail_change!"},
	"aws.defense-evasion.cloudtrail-event-selectors":              {"threats.cloudtrail_event_selectors_weakened!"},
	"aws.defense-evasion.cloudtrail-stop":                         {"aws.cloudtrail_change!"},
	"aws.defense-evasion.dns-delete-logs":                         {"threats.dns_query_logging_deleted!"},
	"aws.defense-evasion.organizations-leave":                     {"aws.organizations_change!", "aws.unauthorized_api_call"},
	"aws.defense-evasion.vpc-remove-flow-logs":                    {"threats.flow_logs_deleted!"},
	"aws.discovery.ec2-download-user-data":                        {"threats.ec2_user_data_read!", "aws.unauthorized_api_call"},
	"aws.execution.ec2-launch-unusual-instances":                  {"threats.ec2_gpu_instances_launched!", "aws.unauthorized_api_call"},
	"aws.execution.ec2-user-data":                                 {"threats.ec2_user_data_modified!"},
	"aws.execution.ssm-send-command":                              {"threats.ssm_send_command!"},
	"aws.execution.ssm-start-session":                             {"threats.ssm_start_session!"},
	"aws.exfiltration.ec2-security-group-open-port-22-ingress":    {"threats.security_group_open_to_world!", "aws.security_group_change!"},
	"aws.exfiltration.ec2-share-ami":                              {"threats.snapshot_shared_outside!"},
	"aws.exfiltration.ec2-share-ebs-snapshot":                     {"threats.snapshot_shared_outside!"},
	"aws.exfiltration.rds-share-snapshot":                         {"threats.snapshot_shared_outside!"},
	"aws.impact.bedrock-invoke-model":                             {"threats.bedrock_model_access_enabled!"},
	"aws.initial-access.console-login-without-mfa":                {"aws.console_login_without_mfa!"},
	"aws.lateral-movement.ec2-instance-connect":                   {"threats.ec2_ssh_key_pushed!"},
	"aws.lateral-movement.ec2-serial-console-send-ssh-public-key": {"threats.ec2_ssh_key_pushed!", "threats.ec2_serial_console_enabled!"},
	"aws.persistence.iam-backdoor-role":                           {"threats.iam_role_trust_outside!"},
	"aws.persistence.iam-backdoor-user":                           {"threats.iam_access_key_for_other_user!"},
	"aws.persistence.iam-create-admin-user":                       {"aws.iam_policy_change!", "threats.iam_access_key_for_other_user!"},
	"aws.persistence.iam-create-backdoor-role":                    {"aws.iam_policy_change!", "threats.iam_role_trust_outside!"},
	"aws.persistence.iam-create-user-login-profile":               {"threats.iam_login_profile_for_other_user!"},
	"aws.persistence.lambda-backdoor-function":                    {"threats.lambda_permission_outside!"},
	"aws.persistence.lambda-layer-extension":                      {"threats.lambda_layer_added!"},
	"aws.persistence.lambda-overwrite-code":                       {"threats.lambda_code_updated!"},
	"aws.persistence.rolesanywhere-create-trust-anchor":           {"threats.identity_provider_added!"},
	"aws.persistence.sts-federation-token":                        {"threats.sts_federation_token!"},
	"aws.privilege-escalation.iam-update-user-login-profile":      {"threats.iam_login_profile_for_other_user!"},
}

// stratusSeverity pins the severity of alerts whose severity is set per alert,
// so that the severity review cannot regress silently: rule id → the highest
// severity it must raise on that log.
var stratusSeverity = map[string]map[string]alert.Severity{
	"aws.persistence.iam-create-admin-user":                  {"aws.iam_policy_change": alert.High},
	"aws.persistence.iam-create-backdoor-role":               {"aws.iam_policy_change": alert.High},
	"aws.persistence.sts-federation-token":                   {"threats.sts_federation_token": alert.High},
	"aws.privilege-escalation.iam-update-user-login-profile": {"threats.iam_login_profile_for_other_user": alert.High},
	"aws.initial-access.console-login-without-mfa":           {"aws.console_login_without_mfa": alert.High},
}

// catchAll rules fire on any refused call; they say something is probing,
// not what.
var catchAll = []string{"aws.unauthorized_api_call", "opsworkscm.access_denied"}

func stratusEngine(t testing.TB) *engine.Engine {
	t.Helper()
	eng, err := engine.New(context.Background(),
		engine.WithPacks("opsworkscm", "aws", "threats"),
		engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}))
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// stratusLogs reads the detonation logs: technique name → file contents.
func stratusLogs(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(stratusDir, "aws.*.json"))
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		logs[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	if len(logs) != 35 {
		t.Fatalf("%d detonation logs in %s, want 35", len(logs), stratusDir)
	}
	return logs
}

// replay evaluates every record of one log and returns, per rule id, the
// highest severity it raised. Stateful rules count their candidates the way
// the daemon and eval do (dispatch.Replay, state in memory, empty at the
// start of each log), so what they report is their stateful alerts.
func replay(t testing.TB, eng *engine.Engine, name string, data []byte) map[string]alert.Severity {
	t.Helper()
	rd, err := cloudtrail.NewReader(bytes.NewReader(data), name, cloudtrail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fired := map[string]alert.Severity{}
	out, err := dispatch.NewReplay(nil, func(a *alert.Alert) error {
		fired[a.RuleID] = max(fired[a.RuleID], a.Severity)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		records++
		alerts, err := eng.Evaluate(context.Background(), rec)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, a := range alerts {
			if err := out.Alert(context.Background(), &a); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if records == 0 {
		t.Fatalf("%s: no records", name)
	}
	return fired
}

// checkStratus compares what fired on one log with stratusWant.
func checkStratus(t *testing.T, name string, fired map[string]alert.Severity) {
	t.Helper()
	want, ok := stratusWant[name]
	if !ok {
		t.Errorf("%s: not in stratusWant", name)
		return
	}
	var wantIDs []string
	for _, w := range want {
		id, mustBeMedium := strings.CutSuffix(w, "!")
		wantIDs = append(wantIDs, id)
		if mustBeMedium && fired[id] < alert.Medium {
			t.Errorf("%s: %s raised nothing of severity medium or higher (got %v)", name, id, fired[id])
		}
		if mustBeMedium && slices.Contains(catchAll, id) {
			t.Errorf("%s: %s is a catch-all and cannot count as the detection", name, id)
		}
	}
	got := make([]string, 0, len(fired))
	for id := range fired {
		got = append(got, id)
	}
	sort.Strings(got)
	sort.Strings(wantIDs)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("%s: rules fired %v, want %v", name, got, wantIDs)
	}
	for id, sev := range stratusSeverity[name] {
		if fired[id] != sev {
			t.Errorf("%s: %s severity %v, want %v", name, id, fired[id], sev)
		}
	}
}

// TestStratusDetonations replays each Stratus Red Team detonation log through
// the engine and checks exactly which rules fire, and that every technique a
// per-event rule can see raises an alert of severity medium or higher from a
// rule that is not a catch-all.
func TestStratusDetonations(t *testing.T) {
	eng := stratusEngine(t)
	detected := 0
	for name, data := range stratusLogs(t) {
		t.Run(name, func(t *testing.T) {
			fired := replay(t, eng, name, data)
			checkStratus(t, name, fired)
			for id, sev := range fired {
				if sev >= alert.Medium && !slices.Contains(catchAll, id) {
					detected++
					return
				}
			}
		})
	}
	t.Logf("%d of 35 detonation logs raise a medium-or-higher alert from a specific rule", detected)
}

// TestStratusDetonationsDisguised replays the logs after rewriting everything
// an attacker chooses or a detonation happens to have: the tool's name in user
// agents, resource names, tags and paths; account ids (each mapped to another,
// so that own and outside accounts stay apart); regions; source IPs; user
// names. The same rules must fire: they detect the behaviour, not the tool.
func TestStratusDetonationsDisguised(t *testing.T) {
	eng := stratusEngine(t)
	for name, data := range stratusLogs(t) {
		t.Run(name, func(t *testing.T) {
			disguised := disguise(t, data)
			if regexp.MustCompile(`(?i)stratus|red[-_ ]?team`).Match(disguised) {
				t.Fatalf("the disguise left the tool's name in:\n%.2000s", disguised)
			}
			for _, acct := range accountIDs(data) {
				if bytes.Contains(disguised, acct) {
					t.Fatalf("the disguise left account id %s in", acct)
				}
			}
			checkStratus(t, name, replay(t, eng, name+" (disguised)", disguised))
		})
	}
}

var (
	// Runs of digits: those of exactly 12 are account ids, wherever they are
	// (a \b would miss them after URL escapes such as %3A).
	digitsRE = regexp.MustCompile(`[0-9]+`)
	toolRE   = regexp.MustCompile(`(?i)stratus[-_ ]?red[-_ ]?team|stratusredteam|stratus|red[-_ ]?team`)
)

// disguise rewrites a detonation log (a JSON array of records) as described
// above and returns it as a JSON array again.
func disguise(t *testing.T, data []byte) []byte {
	t.Helper()
	var records []map[string]any
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	// Fields rewritten wholesale: what any client or network could say.
	for i, r := range records {
		r["userAgent"] = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.1"
		if ip, ok := r["sourceIPAddress"].(string); ok && !strings.Contains(ip, "amazonaws.com") && ip != "AWS Internal" {
			r["sourceIPAddress"] = fmt.Sprintf("192.0.2.%d", 10+i%200)
		}
	}
	text, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	// Regions, everywhere they appear (ARNs, hosts, stream URLs).
	for _, r := range records {
		if region, ok := r["awsRegion"].(string); ok && region != "" {
			s = strings.ReplaceAll(s, region, "eu-south-2")
		}
	}
	// Account ids: each to a different one, consistently.
	s = digitsRE.ReplaceAllStringFunc(s, func(a string) string {
		if len(a) != 12 {
			return a
		}
		out := []byte(a)
		for i := range out {
			out[i] = '0' + (out[i]-'0'+7)%10
		}
		return string(out)
	})
	// The tool's name and its operator's, in any case and spelling.
	s = toolRE.ReplaceAllString(s, "acme-ops")
	s = strings.ReplaceAll(s, "christophe", "dana")
	if !json.Valid([]byte(s)) {
		t.Fatal("the disguise broke the JSON")
	}
	return []byte(s)
}

// accountIDs lists the 12-digit runs in data.
func accountIDs(data []byte) [][]byte {
	var out [][]byte
	for _, d := range digitsRE.FindAll(data, -1) {
		if len(d) == 12 {
			out = append(out, d)
		}
	}
	return out
}
