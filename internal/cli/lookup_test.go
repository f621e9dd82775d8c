package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// thing is an object of the lookup tests: an id and a name.
type thing struct{ id, name string }

// things returns a list function for a lookup of ts.
func things(ts ...thing) func(context.Context) ([]thing, error) {
	return func(context.Context) ([]thing, error) { return ts, nil }
}

// thingLookup is a lookup of things among list.
func thingLookup(list func(context.Context) ([]thing, error)) lookup[thing] {
	return lookup[thing]{kind: "thing", list: list,
		id: func(t thing) string { return t.id }, names: []func(thing) string{func(t thing) string { return t.name }}}
}

// TestLookup: a name resolves to the one object that has it, exactly or
// else in any case; an error about a name that matches nothing tells the
// truth about what there is: at most maxChoices names of it, or that there
// is nothing at all. A list narrowed by a search shows what there is, not
// what the search found.
func TestLookup(t *testing.T) {
	web := thing{"1", "web.example.net"}
	db := thing{"2", "db.example.net"}
	web2 := thing{"3", "Web.Example.NET"}
	var many []thing
	for i := range maxChoices + 3 {
		many = append(many, thing{fmt.Sprint(100 + i), fmt.Sprintf("n%02d.example.net", i)})
	}
	first12 := make([]string, maxChoices)
	for i := range first12 {
		first12[i] = many[i].name
	}
	searched := thingLookup(things(web))
	searched.others = things(db, web)
	searchedNone := thingLookup(things())
	searchedNone.others = things()
	scoped := thingLookup(things(web))
	scoped.scope = "in datacenter fra1"
	for _, tc := range []struct {
		name    string
		l       lookup[thing]
		ref     string
		id, err string
	}{
		{"exact", thingLookup(things(web, db, web2)), "web.example.net", "1", ""},
		{"exact over case", thingLookup(things(web, db, web2)), "Web.Example.NET", "3", ""},
		{"any case", thingLookup(things(web, db)), "WEB.example.net", "1", ""},
		{"an id as it is", thingLookup(things()), "0190a8f4-5e5c-7d4e-8a3b-9c2d1e0f6a7b", "0190a8f4-5e5c-7d4e-8a3b-9c2d1e0f6a7b", ""},
		{"twice in any case", thingLookup(things(web, web2)), "WEB.EXAMPLE.NET", "", `2 things are named "WEB.EXAMPLE.NET": give the id (1, 3)`},
		{"none at all", thingLookup(things()), "web", "", `no thing named "web": there are none`},
		{"others", thingLookup(things(web, db)), "nope", "", `no thing named "nope" (there are web.example.net, db.example.net)`},
		{"bounded", thingLookup(things(many...)), "nope", "", `no thing named "nope" (there are ` + strings.Join(first12, ", ") + `, ...)`},
		{"search found another", searched, "web.example", "", `no thing named "web.example" (there are db.example.net, web.example.net)`},
		{"search found nothing", searchedNone, "web", "", `no thing named "web": there are none`},
		{"scoped", scoped, "nope", "", `no thing named "nope" in datacenter fra1 (there are web.example.net)`},
	} {
		id, err := tc.l.resolve(t.Context(), tc.ref)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if id != tc.id || got != tc.err {
			t.Errorf("%s: resolve(%q) = %q, %q; want %q, %q", tc.name, tc.ref, id, got, tc.id, tc.err)
		}
	}
}
