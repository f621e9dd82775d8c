// Package fault holds the domain's error vocabulary. Domain packages return
// these errors; the API layer turns them into RPC codes in exactly one place.
// Nothing here knows about Connect, gRPC or SQL.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error by what the caller can do about it.
type Kind int

// The kinds, each matching one RPC status code in the API layer.
const (
	// KindInternal is an unexpected failure; the details are logged, not shown.
	KindInternal Kind = iota
	// KindInvalidArgument means the request is malformed: fix the named field.
	KindInvalidArgument
	// KindNotFound means the object does not exist or the caller may not see it.
	KindNotFound
	// KindAlreadyExists means a unique object with that identity exists already.
	KindAlreadyExists
	// KindFailedPrecondition means a business rule refuses the request now.
	KindFailedPrecondition
	// KindResourceExhausted means a limit or a stock has run out.
	KindResourceExhausted
	// KindPermissionDenied means the caller lacks a required role.
	KindPermissionDenied
	// KindUnauthenticated means credentials are missing, invalid or expired.
	KindUnauthenticated
)

// Error is a domain error: a kind, an optional request field it concerns and a
// message meant for the caller.
type Error struct {
	Kind    Kind
	Field   string // request field in proto (snake_case) path form, e.g. "pagination.page"; may be empty
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Is lets errors.Is match on the kind: errors.Is(err, fault.ErrNotFound).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Field == "" && t.Message == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is; they carry only a kind.
var (
	ErrInvalidArgument    = &Error{Kind: KindInvalidArgument}
	ErrNotFound           = &Error{Kind: KindNotFound}
	ErrAlreadyExists      = &Error{Kind: KindAlreadyExists}
	ErrFailedPrecondition = &Error{Kind: KindFailedPrecondition}
	ErrResourceExhausted  = &Error{Kind: KindResourceExhausted}
	ErrPermissionDenied   = &Error{Kind: KindPermissionDenied}
	ErrUnauthenticated    = &Error{Kind: KindUnauthenticated}
)

// Invalid reports a malformed request field.
func Invalid(field, format string, args ...any) error {
	return &Error{Kind: KindInvalidArgument, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing (or invisible) object, e.g. NotFound("project", id).
func NotFound(what, id string) error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf("%s %q not found", what, id)}
}

// AlreadyExists reports a duplicate of a unique object.
func AlreadyExists(format string, args ...any) error {
	return &Error{Kind: KindAlreadyExists, Message: fmt.Sprintf(format, args...)}
}

// Precondition reports a business rule that refuses the request.
func Precondition(format string, args ...any) error {
	return &Error{Kind: KindFailedPrecondition, Message: fmt.Sprintf(format, args...)}
}

// Exhausted reports a limit or stock that has run out.
func Exhausted(format string, args ...any) error {
	return &Error{Kind: KindResourceExhausted, Message: fmt.Sprintf(format, args...)}
}

// Denied reports a missing role or permission.
func Denied(format string, args ...any) error {
	return &Error{Kind: KindPermissionDenied, Message: fmt.Sprintf(format, args...)}
}

// Unauthenticated reports missing or bad credentials.
func Unauthenticated(format string, args ...any) error {
	return &Error{Kind: KindUnauthenticated, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, KindInternal when err is not a *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
