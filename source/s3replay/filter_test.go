package s3replay

import (
	"slices"
	"testing"
	"time"
)

func TestFilterKeep(t *testing.T) {
	const (
		a1 = "111122223333"
		a2 = "444455556666"
	)
	ct := func(acct, region, rest string) string {
		return "AWSLogs/o-abcdef1234/" + acct + "/CloudTrail/" + region + "/" + rest
	}
	file := func(acct, region, stamp string) string {
		d, _ := time.Parse("20060102T1504Z", stamp)
		return ct(acct, region, d.Format("2006/01/02/")+acct+"_CloudTrail_"+region+"_"+stamp+"_x1.json.gz")
	}
	jan := Filter{Since: day(2024, 1, 1), Until: day(2024, 2, 1)}
	tests := []struct {
		name string
		f    Filter
		key  string
		want bool
	}{
		{"everything by default", Filter{}, file(a1, "us-east-1", "20200101T0000Z"), true},
		{"digests never", Filter{}, "AWSLogs/" + a1 + "/CloudTrail-Digest/", false},
		{"insights never", Filter{}, "AWSLogs/" + a1 + "/CloudTrail-Insight/us-east-1/2024/01/01/x.json.gz", false},
		{"other services never", Filter{}, "AWSLogs/" + a1 + "/elasticloadbalancing/", false},
		{"outside the layout", jan, "logs/2019/x.json.gz", true},

		{"account kept", Filter{Accounts: []string{a2, a1}}, ct(a1, "", ""), true},
		{"account pruned", Filter{Accounts: []string{a2}}, "AWSLogs/o-abcdef1234/" + a1 + "/", false},
		{"account pruned without org", Filter{Accounts: []string{a2}}, "AWSLogs/" + a1 + "/", false},
		{"org folder is not an account", Filter{Accounts: []string{a2}}, "AWSLogs/o-abcdef1234/", true},
		{"region kept", Filter{Regions: []string{"eu-west-1", "us-east-1"}}, ct(a1, "us-east-1", ""), true},
		{"region pruned", Filter{Regions: []string{"eu-west-1"}}, ct(a1, "us-east-1", ""), false},
		{"region pruned at the file", Filter{Regions: []string{"eu-west-1"}}, file(a1, "us-east-1", "20240105T1200Z"), false},

		{"year before", jan, ct(a1, "us-east-1", "2023/"), false},
		{"year of", jan, ct(a1, "us-east-1", "2024/"), true},
		{"year after", jan, ct(a1, "us-east-1", "2025/"), false},
		{"month before", jan, ct(a1, "us-east-1", "2023/12/"), false},
		{"month of", jan, ct(a1, "us-east-1", "2024/01/"), true},
		// Files delivered in the first 15 minutes of February hold January's last events.
		{"next month's first day", jan, ct(a1, "us-east-1", "2024/02/"), true},
		{"next month's first day folder", jan, ct(a1, "us-east-1", "2024/02/01/"), true},
		{"next month's second day", jan, ct(a1, "us-east-1", "2024/02/02/"), false},
		{"month after that", jan, ct(a1, "us-east-1", "2024/03/"), false},
		{"last day of the year before", jan, ct(a1, "us-east-1", "2023/12/31/"), false},
		{"first file", jan, file(a1, "us-east-1", "20240101T0000Z"), true},
		{"file before since", jan, file(a1, "us-east-1", "20231231T2355Z"), false},
		{"file delivered 10 minutes after until", jan, file(a1, "us-east-1", "20240201T0010Z"), true},
		{"file delivered 14 minutes after until", jan, file(a1, "us-east-1", "20240201T0014Z"), true},
		{"file delivered 15 minutes after until", jan, file(a1, "us-east-1", "20240201T0015Z"), false},
		{"since only", Filter{Since: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)}, file(a1, "us-east-1", "20240310T1155Z"), false},
		{"since only, later", Filter{Since: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)}, file(a1, "us-east-1", "20260310T1155Z"), true},
		{"until only", Filter{Until: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)}, file(a1, "us-east-1", "20200310T1155Z"), true},
		{"until only, later", Filter{Until: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)}, ct(a1, "us-east-1", "2024/03/11/"), false},
		{"odd name judged by its day", jan, ct(a1, "us-east-1", "2024/01/31/notes.json"), true},
		{"odd name judged by its day, out", jan, ct(a1, "us-east-1", "2024/03/01/notes.json"), false},
	}
	for _, tt := range tests {
		if got := tt.f.Keep(Parse(tt.key)); got != tt.want {
			t.Errorf("%s: Keep(%q) = %v, want %v", tt.name, tt.key, got, tt.want)
		}
	}
}

func TestFilterUnpruned(t *testing.T) {
	all := Filter{Since: day(2024, 1, 1), Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}}
	tests := []struct {
		f    Filter
		key  string
		want []string
	}{
		{Filter{}, "logs/x.json", nil},
		{all, "logs/x.json", []string{"accounts", "regions", "time"}},
		{all, "AWSLogs/111122223333/CloudTrail/us-east-1/x.json", []string{"time"}},
		{Filter{Regions: []string{"us-east-1"}}, "AWSLogs/111122223333/CloudTrail/us-east-1/x.json", nil},
		{all, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02/x.json", nil},
	}
	for _, tt := range tests {
		if got := tt.f.Unpruned(Parse(tt.key)); !slices.Equal(got, tt.want) {
			t.Errorf("Unpruned(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestFilterValidate(t *testing.T) {
	good := []Filter{{}, {Accounts: []string{"012345678901"}, Regions: []string{"ap-southeast-5", "us-gov-east-1"}}, {Since: day(2024, 1, 1), Until: day(2024, 1, 2)}}
	for _, f := range good {
		if err := f.Validate(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	bad := []Filter{{Accounts: []string{"12345"}}, {Regions: []string{"US-EAST-1"}}, {Regions: []string{"useast1"}}, {Since: day(2024, 1, 2), Until: day(2024, 1, 2)}}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 3, 10, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		in   string
		end  bool
		want time.Time
	}{
		{"2024-01-02T03:04:05Z", false, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05+02:00", true, time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)},
		{"2024-01-31", false, day(2024, 1, 31)},
		{"2024-01-31", true, day(2024, 2, 1)},
		{"2024-12-31", true, day(2025, 1, 1)},
		{"7d", false, day(2024, 3, 3).Add(12*time.Hour + 30*time.Minute)},
		{"36h", false, time.Date(2024, 3, 9, 0, 30, 0, 0, time.UTC)},
		{"1d12h", true, time.Date(2024, 3, 9, 0, 30, 0, 0, time.UTC)},
		{"90m", false, time.Date(2024, 3, 10, 11, 0, 0, 0, time.UTC)},
		{"0d", false, now},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now, tt.end)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v", tt.in, tt.end, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "yesterday", "7", "-3h", "d", "7d-1h", "2024-13-01", "2024-01-02 03:04"} {
		if got, err := ParseTime(in, now, false); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		}
	}
}
