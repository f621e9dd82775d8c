package pagination_test

import (
	"fmt"

	"github.com/gpcore/gpcore/internal/pagination"
)

// A list call with a default limit of 50 receives page 3 with a limit of 500
// and has 120 items to page through.
func Example() {
	page, err := pagination.Request{Page: 3, Limit: 500}.Resolve(50)
	if err != nil {
		panic(err)
	}
	fmt.Println("LIMIT", page.Limit, "OFFSET", page.Offset())
	fmt.Printf("%+v\n", page.Response(120))

	_, err = pagination.Request{Limit: -1}.Resolve(50)
	fmt.Println(err)
	// Output:
	// LIMIT 50 OFFSET 100
	// {Page:3 Limit:50 Total:3}
	// pagination.limit: must not be negative, got -1
}
