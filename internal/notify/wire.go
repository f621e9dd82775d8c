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
// rolling upgrade) logs it and drops it. The event identity ("i") came later
// within version 1: a replica that does not know it ignores it, and one
// that gets an event without it shares nothing across the event's parts.
const wireVersion = 1

// envelope is one notification payload: a batch of events.
//
//	{"v":1,"e":[{"k":"node","i":"…","id":"…","p":"…","u":["…","…"]}]}
type envelope struct {
	V int         `json:"v"`
	E []wireEvent `json:"e"`
}

// wireEvent is an Event in a payload. An event whose audience does not fit
// in one payload is sent as several wireEvents, each with part of the
// audience and all with the event's identity.
type wireEvent struct {
	Kind Kind `json:"k"`
	// Identity tells the parts of one published event from those of
	// another: unique per event, the same in each of its parts.
	Identity  string   `json:"i,omitempty"`
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

// encodePayloads packs normalized events, with their identities ids (one
// per event), into as few payloads as it can, each shorter than maxPayload
// bytes, in order. An event whose audience is too large for one payload is
// split over several, each user in exactly one; the parts are consecutive.
func encodePayloads(events []Event, ids []string) []string {
	var p packer
	for i, e := range events {
		head := eventHead(e, ids[i])
		for _, u := range e.Audience {
			p.add(head, jsonString(u))
		}
		p.endEvent()
	}
	return p.finish()
}

// eventHead is the JSON of e, whose identity is id, up to the opening
// bracket of its audience.
func eventHead(e Event, id string) []byte {
	head := []byte(`{"k":`)
	head = append(head, jsonString(string(e.Kind))...)
	if id != "" {
		head = append(head, `,"i":`...)
		head = append(head, jsonString(id)...)
	}
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
// the audience, and their identities (empty for an event sent without one).
func decodePayload(payload string) (events []Event, ids []string, err error) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		return nil, nil, fmt.Errorf("decode payload: %w", err)
	}
	if env.V != wireVersion {
		return nil, nil, fmt.Errorf("payload version %d, want %d", env.V, wireVersion)
	}
	events = make([]Event, len(env.E))
	ids = make([]string, len(env.E))
	for i, w := range env.E {
		e := Event{Kind: w.Kind, ID: w.ID, ProjectID: w.ProjectID, Audience: w.Audience}
		if err := e.check(); err != nil {
			return nil, nil, fmt.Errorf("payload event %d: %w", i, err)
		}
		events[i], ids[i] = e, w.Identity
	}
	return events, ids, nil
}
