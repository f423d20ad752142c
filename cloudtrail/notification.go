package cloudtrail

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ObjectRef names one S3 object.
type ObjectRef struct {
	Bucket string
	Key    string
}

func (o ObjectRef) String() string { return "s3://" + o.Bucket + "/" + o.Key }

// Notification is what one queue message asks of us.
type Notification struct {
	// Kind says which envelope carried it: "cloudtrail", "s3-event",
	// "eventbridge-s3", "eventbridge-cloudtrail", or "ignored".
	Kind string
	// Objects are the log files to read.
	Objects []ObjectRef
	// Skipped are objects named but not log files (digest and Insights files).
	Skipped []ObjectRef
	// Records are CloudTrail records carried in the message itself (EventBridge).
	Records [][]byte
	// Ignored, when set, says why the message asks nothing of us
	// (an S3 test event, an SNS subscription confirmation).
	Ignored string
	// SNS is true when the payload came wrapped in an SNS notification.
	SNS bool

	seen map[ObjectRef]bool // objects already in Objects or Skipped
}

// NotificationLimits bounds what one message may ask for.
type NotificationLimits struct {
	// MaxObjects refuses a message naming more objects than this (default 1000).
	MaxObjects int
}

// DefaultMaxObjects is the default NotificationLimits.MaxObjects.
const DefaultMaxObjects = 1000

// ErrForged is wrapped by errors about notifications that name objects no honest
// CloudTrail or S3 notification would: invalid bucket names, keys with ".."
// segments or a leading "/", URLs of other schemes.
var ErrForged = errors.New("refused object reference")

// NotificationError says why a message body could not be understood.
type NotificationError struct{ Err error }

func (e *NotificationError) Error() string { return "notification: " + e.Err.Error() }
func (e *NotificationError) Unwrap() error { return e.Err }

// envelope holds every top-level field of the shapes we accept, so one decode
// tells them apart.
type envelope struct {
	// SNS
	Type    string `json:"Type"`
	Message *string
	// CloudTrail's own notification
	S3Bucket    *string  `json:"s3Bucket"`
	S3ObjectKey []string `json:"s3ObjectKey"`
	// S3 event notification
	Records []struct {
		EventSource string   `json:"eventSource"`
		EventName   string   `json:"eventName"`
		S3          s3Object `json:"s3"`
	} `json:"Records"`
	Event string `json:"Event"` // s3:TestEvent
	// EventBridge
	DetailType *string         `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

// s3Object names an object the way S3 event notifications (in "s3") and
// EventBridge S3 events (in "detail") both do.
type s3Object struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key string `json:"key"`
	} `json:"object"`
}

// ParseNotification decodes one SQS message body: an SNS notification (or its raw
// delivery) of CloudTrail's {"s3Bucket","s3ObjectKey"}, an S3 event notification,
// direct or through SNS, an EventBridge CloudTrail event or S3 "Object Created"
// event, an S3 test event or an SNS subscription confirmation.
func ParseNotification(body []byte, limits NotificationLimits) (*Notification, error) {
	if limits.MaxObjects <= 0 {
		limits.MaxObjects = DefaultMaxObjects
	}
	n, err := parseNotification(body, limits, 0)
	if err != nil {
		return nil, &NotificationError{Err: err}
	}
	return n, nil
}

func parseNotification(body []byte, limits NotificationLimits, depth int) (*Notification, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	n := &Notification{}
	switch {
	case env.Type == "SubscriptionConfirmation" || env.Type == "UnsubscribeConfirmation":
		n.Kind, n.Ignored = "ignored", "SNS "+env.Type
		return n, nil
	case env.Type == "Notification" && env.Message != nil:
		if depth > 0 {
			return nil, errors.New("SNS notification nested in another")
		}
		inner, err := parseNotification([]byte(*env.Message), limits, depth+1)
		if err != nil {
			return nil, fmt.Errorf("SNS Message: %w", err)
		}
		inner.SNS = true
		return inner, nil
	case env.Event == "s3:TestEvent":
		n.Kind, n.Ignored = "ignored", "S3 test event"
		return n, nil
	case env.S3Bucket != nil:
		n.Kind = "cloudtrail"
		if len(env.S3ObjectKey) == 0 {
			return nil, errors.New("CloudTrail notification without s3ObjectKey")
		}
		if len(env.S3ObjectKey) > limits.MaxObjects {
			return nil, fmt.Errorf("notification names %d objects, more than the limit of %d: %w", len(env.S3ObjectKey), limits.MaxObjects, ErrTooLarge)
		}
		for _, k := range env.S3ObjectKey {
			if err := n.add(*env.S3Bucket, k); err != nil {
				return nil, err
			}
		}
		return n, nil
	case len(env.Records) > 0:
		n.Kind = "s3-event"
		if len(env.Records) > limits.MaxObjects {
			return nil, fmt.Errorf("notification names %d objects, more than the limit of %d: %w", len(env.Records), limits.MaxObjects, ErrTooLarge)
		}
		for i, r := range env.Records {
			if r.EventSource != "aws:s3" {
				return nil, fmt.Errorf("S3 event record %d: eventSource %q is not aws:s3", i, r.EventSource)
			}
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue // deletions and the like say nothing about new logs
			}
			// S3 event keys are form-URL-encoded: "+" is a space.
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				return nil, fmt.Errorf("S3 event record %d: object key %q: %w", i, r.S3.Object.Key, err)
			}
			if err := n.add(r.S3.Bucket.Name, key); err != nil {
				return nil, fmt.Errorf("S3 event record %d: %w", i, err)
			}
		}
		return n, nil
	case env.DetailType != nil:
		return parseEventBridge(n, env)
	}
	return nil, errors.New("not a CloudTrail, S3, SNS or EventBridge notification")
}

func parseEventBridge(n *Notification, env envelope) (*Notification, error) {
	switch dt := *env.DetailType; {
	case isCloudTrailDetailType(dt):
		if len(env.Detail) == 0 || env.Detail[0] != '{' {
			return nil, fmt.Errorf("EventBridge %q event without a detail object", dt)
		}
		n.Kind = "eventbridge-cloudtrail"
		n.Records = [][]byte{env.Detail}
		return n, nil
	case dt == "Object Created" && env.Source == "aws.s3":
		var d s3Object
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return nil, fmt.Errorf("EventBridge S3 detail: %w", err)
		}
		n.Kind = "eventbridge-s3"
		return n, n.add(d.Bucket.Name, d.Object.Key)
	default:
		return nil, fmt.Errorf("EventBridge detail-type %q is neither a CloudTrail nor an S3 Object Created event", dt)
	}
}

// bucketName is S3's rule for bucket names (lower case, digits, dots, hyphens),
// which also must not hold two adjacent periods nor look like an IP address.
var (
	bucketName   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	bucketIsIPv4 = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
)

func (n *Notification) add(bucket, key string) error {
	ref := ObjectRef{Bucket: bucket, Key: key}
	if err := checkRef(ref); err != nil {
		return err
	}
	// A message naming one key many times asks for one read: each would
	// have been a GET of the same object, and its alerts the same alerts.
	if n.seen[ref] {
		return nil
	}
	if n.seen == nil {
		n.seen = map[ObjectRef]bool{}
	}
	n.seen[ref] = true
	if isNotLog(key) {
		n.Skipped = append(n.Skipped, ref)
		return nil
	}
	n.Objects = append(n.Objects, ref)
	return nil
}

func checkRef(ref ObjectRef) error {
	if !bucketName.MatchString(ref.Bucket) || strings.Contains(ref.Bucket, "..") || bucketIsIPv4.MatchString(ref.Bucket) {
		return fmt.Errorf("bucket %q is not a valid S3 bucket name: %w", ref.Bucket, ErrForged)
	}
	k := ref.Key
	switch {
	case k == "":
		return fmt.Errorf("empty object key in bucket %q: %w", ref.Bucket, ErrForged)
	case strings.HasPrefix(k, "/"):
		return fmt.Errorf("object key %q is absolute: %w", k, ErrForged)
	case strings.Contains(k, "://"):
		return fmt.Errorf("object key %q is a URL: %w", k, ErrForged)
	case strings.ContainsAny(k, "\x00\r\n"):
		return fmt.Errorf("object key %q has control characters: %w", k, ErrForged)
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("object key %q has a %q segment: %w", k, seg, ErrForged)
		}
	}
	return nil
}

// isNotLog tells digest and Insights files, which CloudTrail delivers beside the
// logs but which hold no API events.
func isNotLog(key string) bool {
	return strings.Contains(key, "CloudTrail-Digest/") || strings.Contains(key, "CloudTrail-Insight/")
}
