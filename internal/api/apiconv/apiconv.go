// Package apiconv converts the values every API service shares between their
// proto form and the domain's Go form: pagination and timestamps.
package apiconv

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/pagination"
)

// Page resolves a request's pagination against the call's default limit;
// a negative page or limit is InvalidArgument naming the field.
func Page(req *typev1.PaginationRequest, defaultLimit int32) (pagination.Page, error) {
	return pagination.Request{Page: req.GetPage(), Limit: req.GetLimit()}.Resolve(defaultLimit)
}

// PageResponse is the response pagination for page p of a result of total items.
func PageResponse(p pagination.Page, total int64) *typev1.PaginationResponse {
	r := p.Response(total)
	return &typev1.PaginationResponse{Page: r.Page, Limit: r.Limit, Total: r.Total}
}

// Time converts t to a timestamp; the zero time becomes nil (unset).
func Time(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
