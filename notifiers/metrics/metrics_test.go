package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailguard/trailguard/notifiers/dispatch"
)

func TestMetrics(t *testing.T) {
	m := New("trailguard")
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	m.Notified("slack", dispatch.OutcomeSent)
	m.Notified("slack", dispatch.OutcomeSent)
	m.Notified("email", dispatch.OutcomeFailed)
	m.Retried("email")

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range metric.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			got[key] = metric.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"trailguard_notifications_total notifier=slack outcome=sent":   2,
		"trailguard_notifications_total notifier=email outcome=failed": 1,
		"trailguard_notification_retries_total notifier=email":         1,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
