package notify

import (
	"errors"
	"fmt"
	"slices"
)

// Kind says what sort of object an event is about. The values are the names
// of the Notification fields that carry such an object.
type Kind string

// The kinds of objects subscribers hear about.
const (
	// KindUser is a user: the subscriber themselves, or a fellow member of
	// one of their projects.
	KindUser Kind = "user"
	// KindProject is a project the subscriber belongs to.
	KindProject Kind = "project"
	// KindNode is a node in one of the subscriber's projects.
	KindNode Kind = "node"
	// KindServerLog is a server log line of a node in one of the
	// subscriber's projects.
	KindServerLog Kind = "server_log"
)

// valid reports whether k is one of the kinds above.
func (k Kind) valid() bool {
	switch k {
	case KindUser, KindProject, KindNode, KindServerLog:
		return true
	default:
		return false
	}
}

// MaxIDLength bounds, in bytes, every id an event carries (ID, ProjectID and
// each Audience entry). gpcore's ids are 36-byte UUIDs; the bound keeps every
// event small enough that at least one audience member always fits in a
// PostgreSQL notification.
const MaxIDLength = 128

// Event says that an object changed. It names the object and the users who
// should hear about it, nothing more: the API layer loads the object when it
// streams the event, so it always sends the object as it is now, as the
// receiving user may see it.
type Event struct {
	// Kind is what sort of object changed.
	Kind Kind
	// ID is the id of the object that changed.
	ID string
	// ProjectID is the project the object belongs to, empty for a user.
	ProjectID string
	// Audience is the ids of the users the change concerns (for an object in
	// a project, usually its members). Order and duplicates do not matter.
	// Events that a subscription delivers carry no Audience: they are
	// addressed to the subscriber.
	Audience []string
}

// check reports what is wrong with e, if anything.
func (e Event) check() error {
	if !e.Kind.valid() {
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	if e.ID == "" {
		return errors.New("empty id")
	}
	if len(e.ID) > MaxIDLength {
		return fmt.Errorf("id longer than %d bytes", MaxIDLength)
	}
	if len(e.ProjectID) > MaxIDLength {
		return fmt.Errorf("project id longer than %d bytes", MaxIDLength)
	}
	for _, u := range e.Audience {
		if u == "" {
			return errors.New("empty user id in the audience")
		}
		if len(u) > MaxIDLength {
			return fmt.Errorf("user id in the audience longer than %d bytes", MaxIDLength)
		}
	}
	return nil
}

// normalize checks events and returns them ready to send: each Audience a
// sorted copy without duplicates (so no subscriber gets an event twice and
// the caller may reuse its slices), events with nobody to tell left out.
func normalize(events []Event) ([]Event, error) {
	out := make([]Event, 0, len(events))
	for i, e := range events {
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("notify: event %d: %w", i, err)
		}
		if len(e.Audience) == 0 {
			continue
		}
		e.Audience = slices.Compact(slices.Sorted(slices.Values(e.Audience)))
		out = append(out, e)
	}
	return out, nil
}
