package pagination

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
)

func TestResolve(t *testing.T) {
	const def = 50
	for _, tc := range []struct {
		name    string
		req     Request
		want    Page
		wantErr string // the fault's field when the request is refused
	}{
		{"unset", Request{}, Page{Number: 1, Limit: def}, ""},
		{"page only", Request{Page: 3}, Page{Number: 3, Limit: def}, ""},
		{"limit below default", Request{Page: 2, Limit: 10}, Page{Number: 2, Limit: 10}, ""},
		{"limit equal to default", Request{Limit: def}, Page{Number: 1, Limit: def}, ""},
		{"limit above default is lowered", Request{Page: 1, Limit: def + 1}, Page{Number: 1, Limit: def}, ""},
		{"huge limit is lowered", Request{Limit: math.MaxInt32}, Page{Number: 1, Limit: def}, ""},
		{"limit one", Request{Limit: 1}, Page{Number: 1, Limit: 1}, ""},
		{"negative page", Request{Page: -1}, Page{}, "pagination.page"},
		{"negative limit", Request{Limit: -5}, Page{}, "pagination.limit"},
		{"both negative names the page", Request{Page: -1, Limit: -1}, Page{}, "pagination.page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.req.Resolve(def)
			if tc.wantErr != "" {
				var fe *fault.Error
				if !errors.As(err, &fe) || fe.Kind != fault.KindInvalidArgument || fe.Field != tc.wantErr {
					t.Fatalf("Resolve(%+v) error = %v, want an invalid-argument fault on %s", tc.req, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%+v): %v", tc.req, err)
			}
			if got != tc.want {
				t.Fatalf("Resolve(%+v) = %+v, want %+v", tc.req, got, tc.want)
			}
		})
	}
}

func TestResolvePanicsOnBadDefault(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Resolve with default 0 did not panic")
		}
	}()
	_, _ = Request{}.Resolve(0)
}

func TestOffsetAndResponse(t *testing.T) {
	for _, tc := range []struct {
		page       Page
		items      int64
		wantOffset int64
		want       Response
	}{
		{Page{1, 10}, 0, 0, Response{Page: 1, Limit: 10, Total: 0}},
		{Page{1, 10}, 1, 0, Response{Page: 1, Limit: 10, Total: 1}},
		{Page{1, 10}, 10, 0, Response{Page: 1, Limit: 10, Total: 1}},
		{Page{2, 10}, 11, 10, Response{Page: 2, Limit: 10, Total: 2}},
		{Page{3, 10}, 25, 20, Response{Page: 3, Limit: 10, Total: 3}},
		{Page{9, 10}, 25, 80, Response{Page: 9, Limit: 10, Total: 3}},
		{Page{1, 1}, 7, 0, Response{Page: 1, Limit: 1, Total: 7}},
		{Page{1, 1}, math.MaxInt64 / 2, 0, Response{Page: 1, Limit: 1, Total: math.MaxInt32}},
	} {
		if got := tc.page.Offset(); got != tc.wantOffset {
			t.Errorf("%+v.Offset() = %d, want %d", tc.page, got, tc.wantOffset)
		}
		if got := tc.page.Response(tc.items); got != tc.want {
			t.Errorf("%+v.Response(%d) = %+v, want %+v", tc.page, tc.items, got, tc.want)
		}
	}
}

func TestSlice(t *testing.T) {
	items := []int{1, 2, 3, 4, 5, 6, 7}
	for _, tc := range []struct {
		page Page
		want []int
	}{
		{Page{1, 3}, []int{1, 2, 3}},
		{Page{2, 3}, []int{4, 5, 6}},
		{Page{3, 3}, []int{7}},
		{Page{4, 3}, nil},
		{Page{1, 10}, items},
		{Page{math.MaxInt32, math.MaxInt32}, nil},
	} {
		if got := Slice(items, tc.page); !slices.Equal(got, tc.want) {
			t.Errorf("Slice(%v, %+v) = %v, want %v", items, tc.page, got, tc.want)
		}
	}
}
