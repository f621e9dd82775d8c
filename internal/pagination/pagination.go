// Package pagination implements the GPCORE API's paging rules once, for every
// list call:
//
//   - pages count from 1; an unset (zero) page is page 1;
//   - an unset (zero) limit is the call's default limit;
//   - a limit above the call's default is lowered to the default;
//   - a negative page or limit is an invalid argument naming the field
//     ("pagination.page", "pagination.limit");
//   - the response echoes the effective page and limit, and its Total is the
//     number of PAGES, ceil(items / limit). (The list response's own total,
//     next to it, is the number of items.)
//
// A page past the last one is not an error: it is simply empty.
//
// The types are plain Go values; the API layer maps them to and from
// gpcore.type.v1.PaginationRequest and PaginationResponse.
package pagination

import (
	"math"

	"github.com/gpcore/gpcore/internal/fault"
)

// Request is a page request as the caller sent it; zero fields are unset.
type Request struct {
	// Page is the 1-based page number; 0 means 1.
	Page int32
	// Limit is the number of items per page; 0 means the call's default.
	Limit int32
}

// Page is an effective page: the request after the call's rules applied.
type Page struct {
	// Number is the 1-based page number.
	Number int32
	// Limit is the number of items per page, between 1 and the call's default.
	Limit int32
}

// Response describes the page returned, for the PaginationResponse message.
type Response struct {
	// Page is the effective page number.
	Page int32
	// Limit is the effective limit.
	Limit int32
	// Total is the number of pages in the whole result set.
	Total int32
}

// Resolve applies the paging rules of a call whose default (and maximum)
// limit is defaultLimit. It fails with a fault.Invalid error naming the field
// when the page or the limit is negative. defaultLimit must be positive.
func (r Request) Resolve(defaultLimit int32) (Page, error) {
	if defaultLimit <= 0 {
		panic("pagination: default limit must be positive")
	}
	if r.Page < 0 {
		return Page{}, fault.Invalid("pagination.page", "must not be negative, got %d", r.Page)
	}
	if r.Limit < 0 {
		return Page{}, fault.Invalid("pagination.limit", "must not be negative, got %d", r.Limit)
	}
	p := Page{Number: r.Page, Limit: r.Limit}
	if p.Number == 0 {
		p.Number = 1
	}
	if p.Limit == 0 || p.Limit > defaultLimit {
		p.Limit = defaultLimit
	}
	return p, nil
}

// Offset is the number of items before this page, for SQL OFFSET.
func (p Page) Offset() int64 {
	return int64(p.Number-1) * int64(p.Limit)
}

// Response describes this page of a result set of items items in total.
func (p Page) Response(items int64) Response {
	pages := (items + int64(p.Limit) - 1) / int64(p.Limit)
	if items <= 0 {
		pages = 0
	}
	return Response{Page: p.Number, Limit: p.Limit, Total: int32(min(pages, math.MaxInt32))}
}

// Slice returns the part of items that falls on page p, for lists kept in
// memory rather than in the database. It shares items' backing array.
func Slice[T any](items []T, p Page) []T {
	start := p.Offset()
	if start >= int64(len(items)) {
		return nil
	}
	end := min(start+int64(p.Limit), int64(len(items)))
	return items[start:end]
}
