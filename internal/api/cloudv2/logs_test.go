package cloudv2_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestListProjectLogsMatchesV1: v2's ListProjectLogs answers what v1's does,
// for the same filters, over Connect and gRPC, and refuses the same way.
func TestListProjectLogsMatchesV1(t *testing.T) {
	s := testserver.Start(t)
	user, stranger := s.Register(t), s.Register(t)
	ctx := context.Background()
	p := s.CreateProject(t, user.Token, "Logged")
	v1 := s.Cloud(user.Token)
	for _, name := range []string{"Logged again", "Logged thrice"} {
		if _, err := v1.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{Id: p.GetId(), Name: name})); err != nil {
			t.Fatal(err)
		}
	}
	for _, opts := range [][]connect.ClientOption{nil, {connect.WithGRPC()}} {
		v2 := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(user.Token, opts...)...)
		for _, q := range []*cloudv1.ListProjectLogsRequest{
			{Id: p.GetId()},
			{Id: p.GetId(), Search: "name thrice", UserId: user.ID},
			{Id: p.GetId(), Pagination: &typev1.PaginationRequest{Page: 2, Limit: proto.Int32(2)}},
		} {
			want, err := v1.ListProjectLogs(ctx, connect.NewRequest(q))
			if err != nil {
				t.Fatal(err)
			}
			got, err := v2.ListProjectLogs(ctx, connect.NewRequest(&cloudv2.ListProjectLogsRequest{
				Id: q.GetId(), Pagination: q.GetPagination(), Search: q.GetSearch(), UserId: q.GetUserId(),
			}))
			if err != nil {
				t.Fatal(err)
			}
			g := got.Msg
			asV1 := &cloudv1.ListProjectLogsResponse{Logs: g.GetLogs(), Pagination: g.GetPagination(), Total: g.GetTotal(), Users: g.GetUsers()}
			if len(g.GetLogs()) == 0 || !proto.Equal(asV1, want.Msg) {
				t.Fatalf("v2 answered %v to %v, v1 %v", g, q, want.Msg)
			}
		}
		_, err := v2.ListProjectLogs(ctx, connect.NewRequest(&cloudv2.ListProjectLogsRequest{Id: "logged"}))
		testserver.WantCode(t, err, connect.CodeInvalidArgument, "id")
		stranger2 := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(stranger.Token, opts...)...)
		_, err = stranger2.ListProjectLogs(ctx, connect.NewRequest(&cloudv2.ListProjectLogsRequest{Id: p.GetId()}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
	}
}
