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
// that matched nothing lists the names there are. list returns every object
// of the kind there is; for a list narrowed by a search, see lookup.
func resolve[T any](ctx context.Context, ref, kind string, list func(context.Context) ([]T, error), id func(T) string, names ...func(T) string) (string, error) {
	return lookup[T]{kind: kind, list: list, id: id, names: names}.resolve(ctx, ref)
}

// lookup says how resolve finds the objects of one kind by name.
type lookup[T any] struct {
	// kind is what the objects are, in errors: "node".
	kind string
	// scope, when set, says in errors where the objects were looked for:
	// "in datacenter fra1".
	scope string
	// list returns the objects that may answer to a name: all there are or,
	// with others set, those a search for the name found.
	list func(context.Context) ([]T, error)
	// others, for a list narrowed by a search, returns some of all the
	// objects there are (at most maxChoices+1, as they come), which the
	// error about a name that matched nothing lists.
	others func(context.Context) ([]T, error)
	// id is an object's id; names are the names it answers to.
	id    func(T) string
	names []func(T) string
}

// resolve returns the id of the object ref names, as the function resolve
// says.
func (l lookup[T]) resolve(ctx context.Context, ref string) (string, error) {
	if uuid.Validate(ref) == nil {
		return ref, nil
	}
	items, err := l.list(ctx)
	if err != nil {
		return "", err
	}
	for _, same := range []func(a, b string) bool{func(a, b string) bool { return a == b }, strings.EqualFold} {
		var found []string
		for _, it := range items {
			if slices.ContainsFunc(l.names, func(name func(T) string) bool { return name(it) != "" && same(name(it), ref) }) {
				found = append(found, l.id(it))
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		return "", fmt.Errorf("%d %ss%s are named %q: give the id (%s)", len(found), l.kind, l.in(), ref, strings.Join(found, ", "))
	}
	if l.others != nil {
		// What the search found answers to no name: the choices are what
		// there is.
		if items, err = l.others(ctx); err != nil {
			return "", err
		}
	}
	if len(items) == 0 {
		return "", fmt.Errorf("no %s named %q%s: there are none", l.kind, ref, l.in())
	}
	choices := make([]string, 0, min(len(items), maxChoices)+1)
	for _, it := range items[:min(len(items), maxChoices)] {
		choices = append(choices, firstName(it, l.names))
	}
	if len(items) > maxChoices {
		choices = append(choices, "...")
	}
	return "", fmt.Errorf("no %s named %q%s (there are %s)", l.kind, ref, l.in(), strings.Join(choices, ", "))
}

// in is the lookup's scope after a space, or "" when it has none.
func (l lookup[T]) in() string {
	if l.scope == "" {
		return ""
	}
	return " " + l.scope
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
