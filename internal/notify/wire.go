package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// maxPayload is the largest notification payload PostgreSQL accepts in its
// default build: payloads must be shorter than 8000 bytes.
const maxPayload = 7999

// wireVersion is the version of the payload format below. A replica that
// gets a payload of another version (from a newer or older gpcore during a
// rolling upgrade) logs it and drops it.
const wireVersion = 1

// envelope is one notification payload: a batch of events.
//
//	{"v":1,"e":[{"k":"node","id":"…","p":"…","u":["…","…"]}]}
type envelope struct {
	V int         `json:"v"`
	E []wireEvent `json:"e"`
}

// wireEvent is an Event in a payload. An event whose audience does not fit
// in one payload is sent as several wireEvents, each with part of the
// audience.
type wireEvent struct {
	Kind      Kind     `json:"k"`
	ID        string   `json:"id"`
	ProjectID string   `json:"p,omitempty"`
	Audience  []string `json:"u"`
}

// Fixed parts of a payload, written by hand in encodePayloads.
const (
	payloadClose = `]}`
	eventClose   = `]}`
)

// payloadOpen begins every payload.
var payloadOpen = `{"v":` + strconv.Itoa(wireVersion) + `,"e":[`

// encodePayloads packs normalized events into as few payloads as it can,
// each shorter than maxPayload bytes, in order. An event whose audience is too
// large for one payload is split over several, each user in exactly one.
func encodePayloads(events []Event) []string {
	var p packer
	for _, e := range events {
		head := eventHead(e)
		for _, u := range e.Audience {
			p.add(head, jsonString(u))
		}
		p.endEvent()
	}
	return p.finish()
}

// eventHead is the JSON of e up to the opening bracket of its audience.
func eventHead(e Event) []byte {
	head := []byte(`{"k":`)
	head = append(head, jsonString(string(e.Kind))...)
	head = append(head, `,"id":`...)
	head = append(head, jsonString(e.ID)...)
	if e.ProjectID != "" {
		head = append(head, `,"p":`...)
		head = append(head, jsonString(e.ProjectID)...)
	}
	return append(head, `,"u":[`...)
}

// jsonString is s as a JSON string.
func jsonString(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		// json.Marshal of a string cannot fail: invalid UTF-8 is replaced.
		panic(fmt.Sprintf("notify: marshal string: %v", err))
	}
	return b
}

// packer builds payloads one audience member at a time.
type packer struct {
	payloads []string
	// buf is the payload being built; nil when none is.
	buf []byte
	// events counts the events begun in buf.
	events int
	// open says the last event in buf still takes audience members.
	open bool
}

// add appends user to the event whose head is head, beginning that event (in
// a new payload if the current one is full) unless it is open.
func (p *packer) add(head, user []byte) {
	if p.buf == nil {
		p.buf = append(make([]byte, 0, maxPayload), payloadOpen...)
	}
	need := len(user)
	if p.open {
		need++ // the comma after the previous member
	} else {
		need += len(head)
		if p.events > 0 {
			need++ // the comma after the previous event
		}
	}
	if len(p.buf)+need+len(eventClose)+len(payloadClose) > maxPayload {
		p.flush()
		p.buf = append(make([]byte, 0, maxPayload), payloadOpen...)
	}
	if p.open {
		p.buf = append(p.buf, ',')
	} else {
		if p.events > 0 {
			p.buf = append(p.buf, ',')
		}
		p.buf = append(p.buf, head...)
		p.events++
		p.open = true
	}
	p.buf = append(p.buf, user...)
}

// endEvent closes the open event, if any.
func (p *packer) endEvent() {
	if p.open {
		p.buf = append(p.buf, eventClose...)
		p.open = false
	}
}

// flush closes the current payload and keeps it.
func (p *packer) flush() {
	p.endEvent()
	p.buf = append(p.buf, payloadClose...)
	p.payloads = append(p.payloads, string(p.buf))
	p.buf, p.events = nil, 0
}

// finish returns the payloads, the current one closed.
func (p *packer) finish() []string {
	if p.buf != nil {
		p.flush()
	}
	return p.payloads
}

// decodePayload reads one payload back into events, each with its part of
// the audience.
func decodePayload(payload string) ([]Event, error) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	if env.V != wireVersion {
		return nil, fmt.Errorf("payload version %d, want %d", env.V, wireVersion)
	}
	events := make([]Event, len(env.E))
	for i, w := range env.E {
		e := Event(w)
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("payload event %d: %w", i, err)
		}
		events[i] = e
	}
	return events, nil
}
