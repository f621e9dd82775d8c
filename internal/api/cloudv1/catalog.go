package cloudv1

import (
	"context"
	"slices"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/catalog"
)

// ListCountries lists the countries customers may do business from, with
// their tax rate (in percent) and network support.
func (h *Handler) ListCountries(ctx context.Context, req *connect.Request[cloudv1.ListCountriesRequest]) (*connect.Response[cloudv1.ListCountriesResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), catalog.CountriesPageLimit)
	if err != nil {
		return nil, err
	}
	countries, total, err := h.catalog.ListCountries(ctx, page)
	if err != nil {
		return nil, err
	}
	out := make([]*typev1.Country, len(countries))
	for i, c := range countries {
		out[i] = &typev1.Country{CountryCode: c.Code, Name: c.Name, NetSupport: c.NetSupport, TaxRate: float32(c.TaxRate.Percent())}
	}
	return connect.NewResponse(&cloudv1.ListCountriesResponse{
		Countries: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// ListTimezones lists the IANA time zones a user may choose.
func (h *Handler) ListTimezones(_ context.Context, req *connect.Request[cloudv1.ListTimezonesRequest]) (*connect.Response[cloudv1.ListTimezonesResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), catalog.TimezonesPageLimit)
	if err != nil {
		return nil, err
	}
	zones, total := catalog.ListTimezones(page)
	out := make([]*typev1.Timezone, len(zones))
	for i, z := range zones {
		out[i] = &typev1.Timezone{Code: z.Code, Name: z.Name}
	}
	return connect.NewResponse(&cloudv1.ListTimezonesResponse{
		Timezones: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// ListDatacenters lists every datacenter, COMING_SOON ones included.
func (h *Handler) ListDatacenters(ctx context.Context, req *connect.Request[cloudv1.ListDatacentersRequest]) (*connect.Response[cloudv1.ListDatacentersResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), catalog.DatacentersPageLimit)
	if err != nil {
		return nil, err
	}
	dcs, total, err := h.catalog.ListDatacenters(ctx, page)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.Datacenter, len(dcs))
	for i, dc := range dcs {
		out[i] = datacenter(dc)
	}
	return connect.NewResponse(&cloudv1.ListDatacentersResponse{
		Datacenters: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// ListPublicImages lists the public images grouped by operating system,
// optionally only those available at a cloud provider. The deprecated
// flavour_id is honoured when given: only images installable on it.
func (h *Handler) ListPublicImages(ctx context.Context, req *connect.Request[cloudv1.ListPublicImagesRequest]) (*connect.Response[cloudv1.ListPublicImagesResponse], error) {
	m := req.Msg
	page, err := apiconv.Page(m.GetPagination(), catalog.PublicImagesPageLimit)
	if err != nil {
		return nil, err
	}
	filter := catalog.PublicImageFilter{}
	if m.FlavourId != "" { //nolint:staticcheck // deprecated but still honoured
		if filter.FlavourID, err = apiconv.UUID("flavour_id", m.FlavourId); err != nil { //nolint:staticcheck
			return nil, err
		}
	}
	if m.CloudProviderType != nil {
		if filter.CloudProviderType, err = apiconv.EnumName[catalog.CloudProviderType]("cloud_provider_type", m.GetCloudProviderType(), "CLOUD_PROVIDER_TYPE_"); err != nil {
			return nil, err
		}
	}
	systems, total, err := h.catalog.ListPublicImages(ctx, filter, page)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.OperatingSystem, len(systems))
	for i, os := range systems {
		out[i] = operatingSystem(os)
	}
	return connect.NewResponse(&cloudv1.ListPublicImagesResponse{
		OperatingSystems: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

func datacenter(dc catalog.Datacenter) *cloudv1.Datacenter {
	return &cloudv1.Datacenter{
		Id:                dc.ID,
		Name:              dc.Name,
		Short:             dc.Short,
		Region:            region(dc.Region),
		Status:            apiconv.Enum[cloudv1.DatacenterStatus](cloudv1.DatacenterStatus_value, "DATACENTER_STATUS_", dc.Status),
		LatencyEndpoint:   dc.LatencyEndpoint,
		ManagementVlanIds: slices.Clone(dc.ManagementVLANIDs),
		ServerPrefix:      dc.ServerPrefix,
		NetboxId:          optionalID(dc.NetboxID),
	}
}

func region(r catalog.Region) *cloudv1.Region {
	return &cloudv1.Region{
		Id:          r.ID,
		Name:        r.Name,
		CountryCode: r.CountryCode,
		NetboxId:    optionalID(r.NetboxID),
		CreatedAt:   apiconv.Time(r.CreatedAt),
		UpdatedAt:   apiconv.Time(r.UpdatedAt),
	}
}

func operatingSystem(os catalog.OperatingSystem) *cloudv1.OperatingSystem {
	out := &cloudv1.OperatingSystem{
		Id:     os.ID,
		Name:   os.Name,
		Family: apiconv.Enum[cloudv1.OperatingSystemFamily](cloudv1.OperatingSystemFamily_value, "OPERATING_SYSTEM_FAMILY_", os.Family),
		Images: make([]*cloudv1.BasicImage, len(os.Images)),
	}
	if os.DefaultImageID != "" {
		out.DefaultImageId = &os.DefaultImageID
	}
	for i, img := range os.Images {
		out.Images[i] = basicImage(img)
	}
	return out
}

func basicImage(img catalog.Image) *cloudv1.BasicImage {
	out := &cloudv1.BasicImage{
		Id:                  img.ID,
		Name:                img.Name,
		Public:              img.Public,
		Available:           img.Available,
		Release:             apiconv.Enum[cloudv1.ImageRelease](cloudv1.ImageRelease_value, "IMAGE_RELEASE_", img.Release),
		ContainsSplaLicense: img.ContainsSPLALicense,
		CreatedAt:           apiconv.Time(img.CreatedAt),
		UpdatedAt:           apiconv.Time(img.UpdatedAt),
	}
	if img.Alias != "" {
		out.Alias = &img.Alias
	}
	if img.Username != "" {
		out.Username = &img.Username
	}
	for _, a := range img.AuthenticationTypes {
		out.AuthenticationTypes = append(out.AuthenticationTypes,
			apiconv.Enum[cloudv1.AuthenticationType](cloudv1.AuthenticationType_value, "AUTHENTICATION_TYPE_", a))
	}
	return out
}

// optionalID is an optional external id: 0 means none.
func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
