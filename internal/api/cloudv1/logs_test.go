package cloudv1_test

import (
	"context"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// projectLogs lists a project's log as the client's user.
func projectLogs(t *testing.T, c cloudv1connect.CloudServiceClient, req *cloudv1.ListProjectLogsRequest) *cloudv1.ListProjectLogsResponse {
	t.Helper()
	res, err := c.ListProjectLogs(context.Background(), connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg
}

// messages lists the messages of log entries.
func messages(logs []*cloudv1.ProjectLog) []string {
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.GetMessage()
	}
	return out
}

func TestListProjectLogs(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member := s.Register(t), s.Register(t)
	oc := s.Cloud(owner.Token, connect.WithGRPC())
	ctx := context.Background()
	team := s.CreateProject(t, owner.Token, "Team")
	addMember(t, s, owner, member, team.GetId())
	if _, err := oc.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{Id: team.GetId(), Name: "Team Two"})); err != nil {
		t.Fatal(err)
	}
	// Refused changes write nothing.
	_, err := invite(oc, team.GetId(), member.Email)
	testserver.WantCode(t, err, connect.CodeAlreadyExists, "")

	all := projectLogs(t, s.Cloud(member.Token), &cloudv1.ListProjectLogsRequest{Id: team.GetId()})
	want := []string{
		`changed the name from "Team" to "Team Two"`,
		"joined the project",
		"invited " + member.Email,
		`created the project "Team"`,
	}
	if got := messages(all.GetLogs()); !slices.Equal(got, want) {
		t.Fatalf("log = %q, want %q, newest first", got, want)
	}
	authors := []string{owner.ID, member.ID, owner.ID, owner.ID}
	for i, l := range all.GetLogs() {
		if l.GetUser().GetId() != authors[i] || l.GetId() == "" || l.GetCreatedAt() == nil {
			t.Fatalf("entry %d = %v, want it by %s", i, l, authors[i])
		}
	}
	if all.GetTotal() != 4 || all.GetPagination().GetLimit() != 100 || all.GetPagination().GetTotal() != 1 {
		t.Fatalf("total %d, pagination %v", all.GetTotal(), all.GetPagination())
	}
	var users []string
	for _, u := range all.GetUsers() {
		users = append(users, u.GetId())
	}
	if len(users) != 2 || !slices.Contains(users, owner.ID) || !slices.Contains(users, member.ID) {
		t.Fatalf("users = %v, want the owner and the member", all.GetUsers())
	}

	for _, tc := range []struct {
		name string
		req  *cloudv1.ListProjectLogsRequest
		want []string
	}{
		{"terms are ANDed", &cloudv1.ListProjectLogsRequest{Search: "NAME two"}, want[:1]},
		{"one term", &cloudv1.ListProjectLogsRequest{Search: "the project"}, []string{want[1], want[3]}},
		{"no match", &cloudv1.ListProjectLogsRequest{Search: "invited nobody"}, nil},
		{"one user", &cloudv1.ListProjectLogsRequest{UserId: member.ID}, want[1:2]},
		{"user and search", &cloudv1.ListProjectLogsRequest{UserId: owner.ID, Search: "team"}, []string{want[0], want[3]}},
		{"a page", &cloudv1.ListProjectLogsRequest{Pagination: &typev1.PaginationRequest{Page: 2, Limit: proto.Int32(3)}}, want[3:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Id = team.GetId()
			res := projectLogs(t, oc, tc.req)
			if got := messages(res.GetLogs()); !slices.Equal(got, tc.want) {
				t.Fatalf("log = %q, want %q", got, tc.want)
			}
			if len(res.GetUsers()) != 2 {
				t.Fatalf("users = %v, want everyone in the log whatever the filter", res.GetUsers())
			}
		})
	}
	_, err = oc.ListProjectLogs(ctx, connect.NewRequest(&cloudv1.ListProjectLogsRequest{Id: team.GetId(), UserId: "me"}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "user_id")
}
