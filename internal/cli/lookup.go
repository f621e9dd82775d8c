package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// maxChoices is how many names an error about a name that matched nothing
// lists at most.
const maxChoices = 12

// resolve returns the id of the object ref names: ref itself when it is an id
// (a UUID), else the id of the one object list returns that answers to ref
// by one of its names (the first is its name; others, such as a
// datacenter's short code, are aliases). An exact match wins; else case is
// ignored. kind says what the objects are, in errors; an error about a name
// that matched nothing lists the names there are.
func resolve[T any](ctx context.Context, ref, kind string, list func(context.Context) ([]T, error), id func(T) string, names ...func(T) string) (string, error) {
	if uuid.Validate(ref) == nil {
		return ref, nil
	}
	items, err := list(ctx)
	if err != nil {
		return "", err
	}
	for _, same := range []func(a, b string) bool{func(a, b string) bool { return a == b }, strings.EqualFold} {
		var found []string
		for _, it := range items {
			if slices.ContainsFunc(names, func(name func(T) string) bool { return name(it) != "" && same(name(it), ref) }) {
				found = append(found, id(it))
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		return "", fmt.Errorf("%d %ss are named %q: give the id (%s)", len(found), kind, ref, strings.Join(found, ", "))
	}
	choices := make([]string, 0, min(len(items), maxChoices))
	for _, it := range items[:min(len(items), maxChoices)] {
		choices = append(choices, firstName(it, names))
	}
	switch {
	case len(items) == 0:
		return "", fmt.Errorf("no %s named %q: there are none", kind, ref)
	case len(items) > maxChoices:
		choices = append(choices, "...")
	}
	return "", fmt.Errorf("no %s named %q (there are %s)", kind, ref, strings.Join(choices, ", "))
}

// firstName is the first of the names of it that is not empty.
func firstName[T any](it T, names []func(T) string) string {
	for _, name := range names {
		if n := name(it); n != "" {
			return n
		}
	}
	return ""
}

// allPages calls list for page 1, 2, ... up to the last page and returns the
// items of all of them.
func allPages[T any](ctx context.Context, list func(context.Context, *typev1.PaginationRequest) ([]T, *typev1.PaginationResponse, error)) ([]T, error) {
	var all []T
	for page := int32(1); ; page++ {
		items, pr, err := list(ctx, &typev1.PaginationRequest{Page: page})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if page >= pr.GetTotal() {
			return all, nil
		}
	}
}

// optionalArg is the first argument, or "" when there is none.
func optionalArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
