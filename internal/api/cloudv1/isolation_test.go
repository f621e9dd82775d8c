package cloudv1_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	"github.com/gpcore/gpcore/internal/sshkey/sshkeytest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// aliceWorld is what user A owns, as A sees it.
type aliceWorld struct {
	project, other *cloudv1.Project
	logs           *cloudv1.ListProjectLogsResponse
	keys           *cloudv1.ListUserSSHKeysResponse
	projectKeys    *cloudv1.ListProjectSSHKeysResponse
	locks          *cloudv1.GetProjectLocksResponse
}

// snapshot reads everything of A's that B's calls could change.
func snapshot(t *testing.T, a cloudv1connect.CloudServiceClient, projectID, otherID string) aliceWorld {
	t.Helper()
	ctx := context.Background()
	keys, err := a.ListProjectSSHKeys(ctx, connect.NewRequest(&cloudv1.ListProjectSSHKeysRequest{Id: projectID}))
	if err != nil {
		t.Fatal(err)
	}
	locks, err := a.GetProjectLocks(ctx, connect.NewRequest(&cloudv1.GetProjectLocksRequest{Id: projectID}))
	if err != nil {
		t.Fatal(err)
	}
	return aliceWorld{
		project:     getProject(t, a, projectID),
		other:       getProject(t, a, otherID),
		logs:        projectLogs(t, a, &cloudv1.ListProjectLogsRequest{Id: projectID}),
		keys:        userKeys(t, a),
		projectKeys: keys.Msg,
		locks:       locks.Msg,
	}
}

func (w aliceWorld) equal(o aliceWorld) bool {
	return proto.Equal(w.project, o.project) && proto.Equal(w.other, o.other) && proto.Equal(w.logs, o.logs) &&
		proto.Equal(w.keys, o.keys) && proto.Equal(w.projectKeys, o.projectKeys) && proto.Equal(w.locks, o.locks)
}

// TestIsolation: user B calls every method that takes a project id, or the
// id of anything of A's, with A's ids, over Connect and gRPC. Each answer is
// NotFound, word for word the answer for an id that does not exist (so B
// cannot even tell that A's objects exist), never PermissionDenied and never
// data; and afterwards nothing of A's has changed.
func TestIsolation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	ctx := context.Background()
	alice, member, invitee, bob := s.Register(t), s.Register(t), s.Register(t), s.Register(t)
	ac := s.Cloud(alice.Token)
	secretName := "Alice's secret project"
	project := s.CreateProject(t, alice.Token, secretName)
	other := s.CreateProject(t, alice.Token, "Alice's deletable project")
	addMember(t, s, alice, member, project.GetId())
	if _, err := invite(ac, project.GetId(), invitee.Email); err != nil {
		t.Fatal(err)
	}
	aliceKey, err := createKey(ac, "alice's key", sshkeytest.Ed25519(t, "alice@home"))
	if err != nil {
		t.Fatal(err)
	}
	bobsProject := s.CreateProject(t, bob.Token, "Bob's project")
	if _, err := createKey(s.Cloud(bob.Token), "bob's key", sshkeytest.Ed25519(t, "bob@home")); err != nil {
		t.Fatal(err)
	}
	dcs, err := ac.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	datacenterID := dcs.Msg.GetDatacenters()[0].GetId()
	aliceCompany, aliceVAT := "Alice's company", "DE123456789"
	profile, err := paymentv1connect.NewPaymentServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(alice.Token)...).
		CreateBillingProfile(ctx, connect.NewRequest(&paymentv1.CreateBillingProfileRequest{
			Name: "Alice", Company: &aliceCompany, VatId: &aliceVAT, CountryCode: "DE", Street: "Alice's street 1", City: "Berlin",
			Postcode: "10115", BillingEmail: alice.Email,
		}))
	if err != nil {
		t.Fatal(err)
	}
	profileID := profile.Msg.GetBillingProfile().GetId()
	const unknownBill = "0b5e2f0c-9d7a-4a43-8f1e-3c6d2b9a7e55"
	before := snapshot(t, ac, project.GetId(), other.GetId())

	// Words of A's that no answer to B may contain.
	secrets := []string{secretName, "Alice's deletable", alice.Email, member.Email, invitee.Email, "alice@home", aliceCompany, "Alice's street"}
	const unknown = "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"
	covered := map[string]bool{}

	for _, p := range cloudProtocols {
		t.Run(p.name, func(t *testing.T) {
			b := s.Cloud(bob.Token, p.opts...)
			b2 := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(bob.Token, p.opts...)...)
			// Each call takes the id of one of A's objects (or an unknown id)
			// and makes B's request with it.
			calls := []struct {
				procedure string
				id        string // A's id
				call      func(id string) error
			}{
				{cloudv1connect.CloudServiceGetProjectProcedure, project.GetId(), func(id string) error {
					_, err := b.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceUpdateProjectProcedure, project.GetId(), func(id string) error {
					_, err := b.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{Id: id, Name: "Taken over"}))
					return err
				}},
				{cloudv1connect.CloudServiceDeleteProjectProcedure, other.GetId(), func(id string) error {
					_, err := b.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceChangeDefaultProjectProcedure, project.GetId(), func(id string) error {
					_, err := b.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceGetProjectLocksProcedure, project.GetId(), func(id string) error {
					_, err := b.GetProjectLocks(ctx, connect.NewRequest(&cloudv1.GetProjectLocksRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceListProjectFlavoursProcedure, project.GetId(), func(id string) error {
					_, err := b.ListProjectFlavours(ctx, connect.NewRequest(&cloudv1.ListProjectFlavoursRequest{Id: id, DatacenterId: datacenterID}))
					return err
				}},
				{cloudv1connect.CloudServiceInviteMemberToProjectProcedure, project.GetId(), func(id string) error {
					_, err := invite(b, id, bob.Email)
					return err
				}},
				{cloudv1connect.CloudServiceJoinProjectProcedure, project.GetId(), func(id string) error {
					return join(b, id, true)
				}},
				{cloudv1connect.CloudServiceJoinProjectProcedure, project.GetId(), func(id string) error {
					return join(b, id, false)
				}},
				{cloudv1connect.CloudServiceLeaveProjectProcedure, project.GetId(), func(id string) error {
					return leave(b, id)
				}},
				{cloudv1connect.CloudServiceRemoveMemberFromProjectProcedure, project.GetId(), func(id string) error {
					return remove(b, id, member.ID)
				}},
				{cloudv1connect.CloudServiceRemoveMemberFromProjectProcedure, project.GetId(), func(id string) error {
					return remove(b, id, invitee.ID) // A's pending invite
				}},
				{cloudv1connect.CloudServiceRemoveMemberFromProjectProcedure, alice.ID, func(id string) error {
					return remove(b, bobsProject.GetId(), id) // guessing A's id in B's own project
				}},
				{cloudv1connect.CloudServiceListProjectLogsProcedure, project.GetId(), func(id string) error {
					_, err := b.ListProjectLogs(ctx, connect.NewRequest(&cloudv1.ListProjectLogsRequest{Id: id, UserId: alice.ID}))
					return err
				}},
				{cloudv2connect.CloudServiceListProjectLogsProcedure, project.GetId(), func(id string) error {
					_, err := b2.ListProjectLogs(ctx, connect.NewRequest(&cloudv2.ListProjectLogsRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceListProjectSSHKeysProcedure, project.GetId(), func(id string) error {
					_, err := b.ListProjectSSHKeys(ctx, connect.NewRequest(&cloudv1.ListProjectSSHKeysRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceDeleteUserSSHKeyProcedure, aliceKey.GetId(), func(id string) error {
					_, err := b.DeleteUserSSHKey(ctx, connect.NewRequest(&cloudv1.DeleteUserSSHKeyRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceGetProjectUsageProcedure, project.GetId(), func(id string) error {
					_, err := b.GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: id, Detailed: true}))
					return err
				}},
				// A's billing profile, for B's projects.
				{cloudv1connect.CloudServiceCreateProjectProcedure, profileID, func(id string) error {
					_, err := b.CreateProject(ctx, connect.NewRequest(&cloudv1.CreateProjectRequest{Name: "Billed to A", BillingAddressId: id}))
					return err
				}},
				{cloudv1connect.CloudServiceUpdateProjectProcedure, profileID, func(id string) error {
					_, err := b.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{Id: bobsProject.GetId(), BillingAddressId: id}))
					return err
				}},
				// A's billing profile; B with A's bill ids under B's own
				// profile is TestBillsAreTheOwners.
				{cloudv1connect.CloudServiceListBillingProfileBillsProcedure, profileID, func(id string) error {
					_, err := b.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: id}))
					return err
				}},
				{cloudv2connect.CloudServiceListBillingProfileBillsProcedure, profileID, func(id string) error {
					_, err := b2.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv2.ListBillingProfileBillsRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceListBillingProfileProjectsProcedure, profileID, func(id string) error {
					_, err := b.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv1.ListBillingProfileProjectsRequest{Id: id}))
					return err
				}},
				{cloudv2connect.CloudServiceListBillingProfileProjectsProcedure, profileID, func(id string) error {
					_, err := b2.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv2.ListBillingProfileProjectsRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceGetBillingProfileBillDetailsProcedure, profileID, func(id string) error {
					_, err := b.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: id, BillId: unknownBill}))
					return err
				}},
				{cloudv1connect.CloudServiceGetBillingProfileBillPdfProcedure, profileID, func(id string) error {
					_, err := b.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: id, BillId: unknownBill}))
					return err
				}},
			}
			for _, c := range calls {
				covered[c.procedure] = true
				errA, errX := c.call(c.id), c.call(unknown)
				testserver.WantCode(t, errA, connect.CodeNotFound, "")
				if got, want := strings.ReplaceAll(errA.Error(), c.id, unknown), errX.Error(); got != want {
					t.Errorf("%s: B is told %q for A's id and %q for an unknown one", c.procedure, errA, errX)
				}
				for _, secret := range secrets {
					if strings.Contains(errA.Error(), secret) {
						t.Errorf("%s: the answer %q gives away %q", c.procedure, errA, secret)
					}
				}
			}

			// B's own lists show nothing of A's, and B's project is not
			// billed to A.
			l := listProjects(t, b)
			if len(l.GetProjects()) != 1 || l.GetProjects()[0].GetId() != bobsProject.GetId() || len(l.GetInvites()) != 0 {
				t.Fatalf("B lists %v and invites %v", projectNames(l.GetProjects()), l.GetInvites())
			}
			if bp := l.GetProjects()[0].GetBillingProfile(); bp != nil {
				t.Fatalf("B's project is billed to %v", bp)
			}
			if keys := userKeys(t, b).GetSshKeys(); len(keys) != 1 || keys[0].GetName() != "bob's key" {
				t.Fatalf("B's keys = %v", keys)
			}
		})
	}

	if after := snapshot(t, ac, project.GetId(), other.GetId()); !after.equal(before) {
		t.Fatalf("B's calls changed A's world:\nbefore %+v\nafter  %+v", before, after)
	}
	if l := listProjects(t, s.Cloud(invitee.Token)); len(l.GetInvites()) != 1 || l.GetInvites()[0].GetId() != project.GetId() {
		t.Fatalf("A's pending invite is gone: %v", l.GetInvites())
	}

	unimplementedUnlessCovered(t, s, bob.Token, covered)
}

// unimplementedUnlessCovered guards TestIsolation against new methods: every
// CloudService (v1 and v2) method whose request has an id or project_id
// field must be one the test covers (or TestNodeIsolation does, for the
// node methods), or not built yet (Unimplemented).
func unimplementedUnlessCovered(t *testing.T, s *testserver.Server, token string, covered map[string]bool) {
	t.Helper()
	conn := s.GRPCConn(t, token)
	for _, service := range []protoreflect.FullName{
		"gpcore.api.cloud.v1.CloudService", "gpcore.api.cloud.v2.CloudService",
	} {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(service)
		if err != nil {
			t.Fatal(err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			m := methods.Get(i)
			fields := m.Input().Fields()
			procedure := "/" + string(service) + "/" + string(m.Name())
			if m.IsStreamingClient() || m.IsStreamingServer() || covered[procedure] || nodeIsolationProcedures[procedure] ||
				(fields.ByName("id") == nil && fields.ByName("project_id") == nil) {
				continue
			}
			in, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
			if err != nil {
				t.Fatal(err)
			}
			out, err := protoregistry.GlobalTypes.FindMessageByName(m.Output().FullName())
			if err != nil {
				t.Fatal(err)
			}
			err = conn.Invoke(context.Background(), procedure, in.New().Interface(), out.New().Interface())
			if status.Code(err) != codes.Unimplemented {
				t.Errorf("%s takes an id and is built (it answered %v): add it to TestIsolation", procedure, err)
			}
		}
	}
}
