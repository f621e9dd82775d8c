package notify

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// pairs lists every (user, event) delivery that events stand for, per user
// in order.
func pairs(events []Event) map[string][]Event {
	out := map[string][]Event{}
	for _, e := range events {
		for _, u := range e.Audience {
			d := e
			d.Audience = nil
			out[u] = append(out[u], d)
		}
	}
	return out
}

// roundTrip encodes events, event i with the identity "event-i", checks
// every payload against PostgreSQL's limit and decodes them all again,
// checking that each part carries its event's identity.
func roundTrip(t *testing.T, events []Event) ([]string, []Event) {
	t.Helper()
	evs, err := normalize(events)
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	ids := make([]string, len(evs))
	idOf := map[string]string{}
	for i, e := range evs {
		ids[i] = fmt.Sprint("event-", i)
		idOf[e.ID] = ids[i]
	}
	payloads := encodePayloads(evs, ids)
	var back []Event
	for i, p := range payloads {
		if len(p) > maxPayload {
			t.Fatalf("payload %d is %d bytes, over %d", i, len(p), maxPayload)
		}
		if !json.Valid([]byte(p)) {
			t.Fatalf("payload %d is not JSON: %s", i, p)
		}
		got, gotIDs, err := decodePayload(p)
		if err != nil {
			t.Fatalf("decode payload %d: %v", i, err)
		}
		for j, e := range got {
			if gotIDs[j] != idOf[e.ID] {
				t.Fatalf("payload %d: a part of event %q has the identity %q, want %q", i, e.ID, gotIDs[j], idOf[e.ID])
			}
		}
		back = append(back, got...)
	}
	if want, got := pairs(evs), pairs(back); !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded deliveries differ from the encoded ones:\n got %v\nwant %v", got, want)
	}
	return payloads, back
}

func userIDs(n int, prefix string) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%08d-0000-0000-0000-000000000000", prefix, i)
	}
	return ids
}

func TestEncodeSmallBatchIsOnePayload(t *testing.T) {
	var events []Event
	for i := range 20 {
		events = append(events, Event{Kind: KindNode, ID: fmt.Sprint("node-", i), ProjectID: "project", Audience: userIDs(5, "")})
	}
	events = append(events, Event{Kind: KindUser, ID: "user", Audience: userIDs(1, "")})
	payloads, _ := roundTrip(t, events)
	if len(payloads) != 1 {
		t.Fatalf("%d payloads for a small batch, want 1", len(payloads))
	}
	if strings.Contains(payloads[0], `"user","p"`) {
		t.Errorf("an event without a project carries an empty one: %s", payloads[0])
	}
}

func TestEncodeSplitsLargeAudiences(t *testing.T) {
	events := []Event{
		{Kind: KindProject, ID: "before", ProjectID: "before", Audience: userIDs(3, "b")},
		{Kind: KindNode, ID: "big", ProjectID: "project", Audience: userIDs(1000, "m")},
		{Kind: KindServerLog, ID: "after", ProjectID: "project", Audience: userIDs(3, "a")},
	}
	payloads, back := roundTrip(t, events)
	// ~39 KB of member ids: five or six payloads, all but the last full.
	if len(payloads) < 5 || len(payloads) > 6 {
		t.Fatalf("%d payloads, want 5 or 6", len(payloads))
	}
	for i, p := range payloads[:len(payloads)-1] {
		if len(p) < maxPayload-64 {
			t.Errorf("payload %d is %d bytes: not packed", i, len(p))
		}
	}
	if back[0].ID != "before" || back[len(back)-1].ID != "after" {
		t.Errorf("events out of order: first %s, last %s", back[0].ID, back[len(back)-1].ID)
	}
}

func TestEncodeWorstCaseIDs(t *testing.T) {
	// Ids at the length limit made of characters JSON escapes six-fold.
	escaped := strings.Repeat("\x01", MaxIDLength)
	audience := make([]string, 40)
	for i := range audience {
		audience[i] = fmt.Sprintf("%03d", i) + strings.Repeat("\"", MaxIDLength-3)
	}
	roundTrip(t, []Event{
		{Kind: KindNode, ID: escaped, ProjectID: escaped, Audience: audience},
		{Kind: KindUser, ID: "ünïcødé", Audience: []string{"<&>", "ü"}},
	})
}

// TestDecodeWithoutIdentity: a payload from a replica that sends no event
// identities still decodes, its events without one.
func TestDecodeWithoutIdentity(t *testing.T) {
	events, ids, err := decodePayload(`{"v":1,"e":[{"k":"node","id":"n","p":"p","u":["a","b"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{{Kind: KindNode, ID: "n", ProjectID: "p", Audience: []string{"a", "b"}}}
	if !reflect.DeepEqual(events, want) || !reflect.DeepEqual(ids, []string{""}) {
		t.Fatalf("decoded %+v with identities %q, want %+v without", events, ids, want)
	}
}

func TestDecodeRefusesForeignPayloads(t *testing.T) {
	for _, p := range []string{
		`not json`,
		`{"v":2,"e":[{"k":"node","id":"n","u":["a"]}]}`,
		`{"e":[{"k":"node","id":"n","u":["a"]}]}`,
		`{"v":1,"e":[{"k":"invoice","id":"n","u":["a"]}]}`,
		`{"v":1,"e":[{"k":"node","id":"","u":["a"]}]}`,
		`{"v":1,"e":[{"k":"node","id":"n","u":[""]}]}`,
	} {
		if events, _, err := decodePayload(p); err == nil {
			t.Errorf("decodePayload(%s) = %+v, want an error", p, events)
		}
	}
}
