package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seed adds every testdata sample of dir to f.
func seed(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"eventType":"Bounce","bounce":null}`))
}

func FuzzDecodeSESMessage(f *testing.F) {
	seed(f, "ses")
	f.Add([]byte(sesBounceMsg))
	f.Add([]byte(`{"Type":"Notification","MessageId":"m","Message":"{\"notificationType\":\"Complaint\",\"complaint\":{\"complainedRecipients\":[{\"emailAddress\":\"A@B.C\"}]}}"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := decodeSESMessage(data, "", time.Time{})
		checkInvariants(t, evs, err)
		evs, err = DecodeUnverified(ProviderSES, data)
		checkInvariants(t, evs, err)
	})
}

func FuzzPostmark(f *testing.F) {
	seed(f, "postmark")
	auth := basicAuth("parley", "s3cret")
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodePostmark(data, "parley", "s3cret", auth)
		checkInvariants(t, evs, err)
		if errors.Is(err, ErrUnauthorized) {
			t.Fatal("right credentials refused")
		}
		if evs, err := DecodePostmark(data, "parley", "s3cret", string(data)); !errors.Is(err, ErrUnauthorized) || evs != nil {
			t.Fatalf("the body as Authorization header: %v, %v", evs, err)
		}
	})
}

func FuzzMailgun(f *testing.F) {
	seed(f, "mailgun")
	now := time.Unix(1741082400, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		// As posted: the fuzzer's signature is as good as a stranger's.
		evs, err := DecodeMailgun(context.Background(), data, mailgunKey, &MemoryTokenCache{}, now)
		checkInvariants(t, evs, err)
		if err == nil && len(evs) > 0 {
			t.Fatalf("unsigned body accepted: %s", data)
		}
		evs, err = DecodeUnverified(ProviderMailgun, data)
		checkInvariants(t, evs, err)
		// Signed properly around whatever JSON the fuzzer made.
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) == nil && m != nil {
			evs, err := DecodeMailgun(context.Background(), signMailgun(t, data, mailgunKey, now), mailgunKey, &MemoryTokenCache{}, now)
			checkInvariants(t, evs, err)
			if errors.Is(err, ErrUnauthorized) {
				t.Fatal("signed body refused")
			}
		}
	})
}

func FuzzSendGrid(f *testing.F) {
	seed(f, "sendgrid")
	key := sendGridKey()
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := DecodeSendGrid(data, &key.PublicKey, signSendGrid(t, key, "1741082400", data), "1741082400")
		checkInvariants(t, evs, err)
		if errors.Is(err, ErrUnauthorized) {
			t.Fatal("signed body refused")
		}
		if evs, err := DecodeSendGrid(data, &key.PublicKey, string(data), "1741082400"); !errors.Is(err, ErrUnauthorized) || evs != nil {
			t.Fatalf("the body as signature: %v, %v", evs, err)
		}
	})
}
