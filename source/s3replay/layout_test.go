package s3replay

import (
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParse(t *testing.T) {
	const (
		acct = "111122223333"
		file = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/02/29/111122223333_CloudTrail_eu-west-1_20240229T2355Z_AbC123.json.gz"
	)
	tests := []struct {
		key  string
		want Path
	}{
		{"", Path{Level: Outside}},
		{"logs/a.json", Path{Level: Outside}},
		{"AWSLogs", Path{Level: Outside}}, // an object named AWSLogs, not the folder
		{"AWSLogs/", Path{Level: Root}},
		{"trail/prefix/AWSLogs/", Path{Level: Root}},
		{"AWSLogs/o-abcdef1234/", Path{Level: Org, Org: "o-abcdef1234"}},
		{"AWSLogs/" + acct + "/", Path{Level: Account, Account: acct}},
		{"AWSLogs/o-abcdef1234/" + acct + "/CloudTrail/", Path{Level: Service, Org: "o-abcdef1234", Account: acct, Service: "CloudTrail"}},
		{"AWSLogs/" + acct + "/CloudTrail-Digest/", Path{Level: Service, Account: acct, Service: "CloudTrail-Digest"}},
		// Digests have their own layout below: nothing there is odd, it is skipped whole.
		{"AWSLogs/" + acct + "/CloudTrail-Digest/us-east-1/2024/01/01/x.json.gz", Path{Level: Service, Account: acct, Service: "CloudTrail-Digest"}},
		{"AWSLogs/" + acct + "/CloudTrail/us-gov-west-1/", Path{Level: Region, Account: acct, Service: "CloudTrail", Region: "us-gov-west-1"}},
		{"AWSLogs/" + acct + "/CloudTrail/eusc-de-east-1/", Path{Level: Region, Account: acct, Service: "CloudTrail", Region: "eusc-de-east-1"}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/", Path{Level: Year, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 1, 1)}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/12/", Path{Level: Month, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 12, 1)}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/29/", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29)}},
		{file, Path{Level: File, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Time: time.Date(2024, 2, 29, 23, 55, 0, 0, time.UTC)}},
		{"x/" + file[:len(file)-3], Path{Level: File, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Time: time.Date(2024, 2, 29, 23, 55, 0, 0, time.UTC)}},

		// Odd keys: the layout tells what it can, and says the rest did not fit.
		{"AWSLogs/notanaccount/CloudTrail/", Path{Level: Root, Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/Global/", Path{Level: Service, Account: acct, Service: "CloudTrail", Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2023/02/29/", Path{Level: Month, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2023, 2, 1), Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/13/", Path{Level: Year, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 1, 1), Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/24/", Path{Level: Region, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/29/extra/", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Odd: true}},
		// A file above the day folders.
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/stray.json", Path{Level: Region, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Odd: true}},
		{"AWSLogs/stray.json", Path{Level: Root, Odd: true}},
		// Names that are not CloudTrail's, or disagree with their folders.
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/29/notes.json", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/29/999988887777_CloudTrail_eu-west-1_20240229T2355Z_AbC123.json.gz", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/29/111122223333_CloudTrail_us-east-1_20240229T2355Z_AbC123.json.gz", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/28/111122223333_CloudTrail_eu-west-1_20240229T2355Z_AbC123.json.gz", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 28), Odd: true}},
		{"AWSLogs/" + acct + "/CloudTrail/eu-west-1/2024/02/29/111122223333_CloudTrail_eu-west-1_20240229T2375Z_AbC123.json.gz", Path{Level: Day, Account: acct, Service: "CloudTrail", Region: "eu-west-1", Day: day(2024, 2, 29), Odd: true}},
	}
	for _, tt := range tests {
		if got := Parse(tt.key); got != tt.want {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.key, got, tt.want)
		}
	}
}
