package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsMatchesKind(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", NotFound("project", "x"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("errors.Is(%v, ErrNotFound) = false", err)
	}
	if errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("errors.Is(%v, ErrAlreadyExists) = true", err)
	}
	if got := KindOf(err); got != KindNotFound {
		t.Fatalf("KindOf = %v, want KindNotFound", got)
	}
	if got := KindOf(errors.New("boom")); got != KindInternal {
		t.Fatalf("KindOf(plain) = %v, want KindInternal", got)
	}
}

func TestInvalidNamesField(t *testing.T) {
	err := Invalid("pagination.page", "must be >= 0, got %d", -1)
	if got, want := err.Error(), "pagination.page: must be >= 0, got -1"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
