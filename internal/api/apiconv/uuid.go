package apiconv

import (
	"github.com/google/uuid"

	"github.com/gpcore/gpcore/internal/fault"
)

// UUID checks that s, the value of the request field named field, is a UUID
// and returns it in canonical lower-case form.
func UUID(field, s string) (string, error) {
	if s == "" {
		return "", fault.Invalid(field, "is required")
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", fault.Invalid(field, "%q is not a UUID (want the form 123e4567-e89b-12d3-a456-426614174000)", s)
	}
	return id.String(), nil
}
