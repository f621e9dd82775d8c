package cloudv1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// protocols are the client set-ups every catalog call is tried with.
var protocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"connect-proto", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
}

func TestListDatacentersEveryProtocol(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			client := cloudv1connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(user.Token, p.opts...)...)
			res, err := client.ListDatacenters(context.Background(), connect.NewRequest(&cloudv1.ListDatacentersRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			statuses := map[string]cloudv1.DatacenterStatus{}
			for _, dc := range res.Msg.GetDatacenters() {
				statuses[dc.GetShort()] = dc.GetStatus()
				if dc.GetRegion().GetName() == "" {
					t.Errorf("datacenter %s has no region", dc.GetShort())
				}
			}
			if statuses["fra1"] != cloudv1.DatacenterStatus_DATACENTER_STATUS_AVAILABLE {
				t.Errorf("fra1 status = %v, want AVAILABLE (all: %v)", statuses["fra1"], statuses)
			}
			var comingSoon bool
			for _, st := range statuses {
				comingSoon = comingSoon || st == cloudv1.DatacenterStatus_DATACENTER_STATUS_COMING_SOON
			}
			if !comingSoon {
				t.Errorf("no COMING_SOON datacenter listed: %v", statuses)
			}
			if got, want := res.Msg.GetTotal(), int64(len(statuses)); got != want {
				t.Errorf("total = %d, want %d items", got, want)
			}
		})
	}
}

func TestListDatacentersPagination(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	client := cloudv1connect.NewCloudServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(user.Token)...)
	ctx := context.Background()
	all, err := client.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	items := all.Msg.GetDatacenters()
	if len(items) < 2 {
		t.Fatalf("seed has %d datacenters, the test needs 2", len(items))
	}
	if p := all.Msg.GetPagination(); p.GetPage() != 1 || p.GetLimit() != 100 || p.GetTotal() != 1 {
		t.Errorf("unset pagination answered %v, want page 1, limit 100 (the default), 1 page", p)
	}

	second, err := client.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{
		Pagination: &typev1.PaginationRequest{Page: 2, Limit: proto.Int32(1)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Msg.GetDatacenters(); len(got) != 1 || got[0].GetId() != items[1].GetId() {
		t.Errorf("page 2 of 1 = %v, want the second datacenter %s", got, items[1].GetId())
	}
	if p := second.Msg.GetPagination(); p.GetPage() != 2 || p.GetLimit() != 1 || p.GetTotal() != int32(len(items)) {
		t.Errorf("pagination = %v, want page 2, limit 1, total %d pages", p, len(items))
	}
	if second.Msg.GetTotal() != int64(len(items)) {
		t.Errorf("total = %d, want %d items", second.Msg.GetTotal(), len(items))
	}

	capped, err := client.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{
		Pagination: &typev1.PaginationRequest{Limit: proto.Int32(10000)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := capped.Msg.GetPagination().GetLimit(); got != 100 {
		t.Errorf("limit 10000 answered limit %d, want it lowered to the default 100", got)
	}

	past, err := client.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{
		Pagination: &typev1.PaginationRequest{Page: 99},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(past.Msg.GetDatacenters()) != 0 {
		t.Errorf("page past the end has %d items, want none", len(past.Msg.GetDatacenters()))
	}
}

func TestCatalogBadInput(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	ctx := context.Background()
	for _, p := range protocols {
		client := cloudv1connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(user.Token, p.opts...)...)
		t.Run(p.name+"/negative page", func(t *testing.T) {
			_, err := client.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{
				Pagination: &typev1.PaginationRequest{Page: -1},
			}))
			testserver.WantCode(t, err, connect.CodeInvalidArgument, "pagination.page")
		})
		t.Run(p.name+"/negative limit", func(t *testing.T) {
			_, err := client.ListCountries(ctx, connect.NewRequest(&cloudv1.ListCountriesRequest{
				Pagination: &typev1.PaginationRequest{Limit: proto.Int32(-5)},
			}))
			testserver.WantCode(t, err, connect.CodeInvalidArgument, "pagination.limit")
		})
		t.Run(p.name+"/malformed uuid", func(t *testing.T) {
			_, err := client.ListPublicImages(ctx, connect.NewRequest(&cloudv1.ListPublicImagesRequest{
				FlavourId: "not-a-uuid",
			}))
			testserver.WantCode(t, err, connect.CodeInvalidArgument, "flavour_id")
		})
		if p.name == "connect-json" {
			continue // JSON cannot carry an enum number the schema lacks
		}
		t.Run(p.name+"/unknown enum", func(t *testing.T) {
			unknown := typev1.CloudProviderType(99)
			_, err := client.ListPublicImages(ctx, connect.NewRequest(&cloudv1.ListPublicImagesRequest{
				CloudProviderType: &unknown,
			}))
			testserver.WantCode(t, err, connect.CodeInvalidArgument, "cloud_provider_type")
		})
	}
}

func TestListPublicImages(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	client := cloudv1connect.NewCloudServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(user.Token)...)
	res, err := client.ListPublicImages(context.Background(), connect.NewRequest(&cloudv1.ListPublicImagesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	families := map[cloudv1.OperatingSystemFamily]int{}
	var spla bool
	for _, os := range res.Msg.GetOperatingSystems() {
		families[os.GetFamily()]++
		if len(os.GetImages()) == 0 {
			t.Errorf("operating system %s lists no image", os.GetName())
		}
		for _, img := range os.GetImages() {
			if len(img.GetAuthenticationTypes()) == 0 {
				t.Errorf("image %s has no authentication type", img.GetName())
			}
			if img.GetRelease() == cloudv1.ImageRelease_IMAGE_RELEASE_UNSPECIFIED {
				t.Errorf("image %s has no release", img.GetName())
			}
			spla = spla || img.GetContainsSplaLicense()
		}
	}
	if families[cloudv1.OperatingSystemFamily_OPERATING_SYSTEM_FAMILY_LINUX] == 0 || families[cloudv1.OperatingSystemFamily_OPERATING_SYSTEM_FAMILY_WINDOWS] == 0 {
		t.Errorf("families = %v, want Linux and Windows", families)
	}
	if !spla {
		t.Error("no image carries a SPLA licence")
	}
	if res.Msg.GetTotal() != int64(len(res.Msg.GetOperatingSystems())) {
		t.Errorf("total = %d, want %d", res.Msg.GetTotal(), len(res.Msg.GetOperatingSystems()))
	}

	aws := typev1.CloudProviderType_CLOUD_PROVIDER_TYPE_AWS
	filtered, err := client.ListPublicImages(context.Background(), connect.NewRequest(&cloudv1.ListPublicImagesRequest{CloudProviderType: &aws}))
	if err != nil {
		t.Fatal(err)
	}
	// The embedded seed maps no image to a cloud provider.
	if got := filtered.Msg.GetOperatingSystems(); len(got) != 0 || filtered.Msg.GetTotal() != 0 {
		t.Errorf("AWS filter kept %d operating systems (total %d), want none", len(got), filtered.Msg.GetTotal())
	}
}

func TestCountriesAndTimezones(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	client := cloudv1connect.NewCloudServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(user.Token)...)
	ctx := context.Background()
	countries, err := client.ListCountries(ctx, connect.NewRequest(&cloudv1.ListCountriesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]*typev1.Country{}
	for _, c := range countries.Msg.GetCountries() {
		byCode[c.GetCountryCode()] = c
	}
	if de := byCode["DE"]; de.GetName() != "Germany" || de.GetTaxRate() != 19 {
		t.Errorf("DE = %v, want Germany with 19%% VAT", de)
	}
	zones, err := client.ListTimezones(ctx, connect.NewRequest(&cloudv1.ListTimezonesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	var berlin bool
	for _, z := range zones.Msg.GetTimezones() {
		berlin = berlin || z.GetCode() == "Europe/Berlin"
	}
	if !berlin || zones.Msg.GetTotal() < 300 {
		t.Errorf("timezones: Europe/Berlin listed %v, total %d; want it and the whole IANA list", berlin, zones.Msg.GetTotal())
	}
}

// TestConnectJSONWithCurlShape posts plain JSON the way curl does.
func TestConnectJSONWithCurlShape(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/gpcore.api.cloud.v1.CloudService/ListDatacenters", bytes.NewBufferString(`{"pagination":{"limit":1}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+user.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var out struct {
		Datacenters []struct{ Short string } `json:"datacenters"`
		Total       string                   `json:"total"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Datacenters) != 1 || out.Total == "" {
		t.Fatalf("body = %s, want one datacenter and a total", body)
	}
}

func TestUnbuiltMethodIsUnimplemented(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t)
	client := cloudv1connect.NewCloudServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(user.Token)...)
	// Cloud providers are not built yet.
	_, err := client.ListProjectCloudProviders(context.Background(), connect.NewRequest(&cloudv1.ListProjectCloudProvidersRequest{}))
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Fatalf("err = %v, want Unimplemented", err)
	}
}
