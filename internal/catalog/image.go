package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// OperatingSystem groups the images of one operating system.
type OperatingSystem struct {
	ID     string
	Name   string
	Family OperatingSystemFamily
	// DefaultImageID is the image to offer first; empty when none is marked.
	DefaultImageID string
	// Images are the operating system's images, sorted by name.
	Images []Image
}

// Image is an installable operating system image.
type Image struct {
	ID                string
	OperatingSystemID string
	// Alias is a stable short name, e.g. "debian-12".
	Alias string
	Name  string
	// Username is the default login of a fresh installation.
	Username string
	Public   bool
	// Available tells whether new nodes may be installed with the image.
	Available bool
	// AuthenticationTypes are the ways to log in the image supports.
	AuthenticationTypes []AuthenticationType
	Release             ImageRelease
	// ContainsSPLALicense marks Windows images whose licence is billed by
	// SPLA (see DatacenterFlavour.SPLA).
	ContainsSPLALicense bool
	// VendorData is cloud-init vendor data handed to nodes installed with it.
	VendorData string
	// CloudProviderImages are the same image at external cloud providers.
	CloudProviderImages []CloudProviderImage
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// CloudProviderImage maps an image to its counterpart at a cloud provider.
type CloudProviderImage struct {
	ID   string
	Type CloudProviderType
	// CloudProviderImageID is the image's id at the provider (e.g. an AMI).
	CloudProviderImageID string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// PublicImageFilter narrows ListPublicImages; zero fields do not filter.
type PublicImageFilter struct {
	// FlavourID keeps the images that may be installed on that flavour.
	FlavourID string
	// CloudProviderType keeps the images available at that cloud provider.
	CloudProviderType CloudProviderType
}

// ListPublicImages returns page p of the operating systems that have public
// images passing the filter, sorted by name, each with those images, and the
// number of such operating systems. Unavailable and end-of-life images are
// included; their Available and Release fields say so. It fails with
// NotFound for an unknown flavour and InvalidArgument for an unknown cloud
// provider type.
func (c *Catalog) ListPublicImages(ctx context.Context, f PublicImageFilter, p pagination.Page) ([]OperatingSystem, int64, error) {
	if f.CloudProviderType != "" && !f.CloudProviderType.Valid() {
		return nil, 0, fault.Invalid("cloud_provider_type", "unknown cloud provider type %q", f.CloudProviderType)
	}
	if f.FlavourID != "" {
		exists, err := c.db.NewSelect().Model((*flavourRow)(nil)).Where("id = ?", f.FlavourID).Exists(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("catalog: find flavour %s: %w", f.FlavourID, err)
		}
		if !exists {
			return nil, 0, fault.NotFound("flavour", f.FlavourID)
		}
	}

	var images []imageRow
	q := c.db.NewSelect().Model(&images).Where("i.public = ?", true).OrderExpr("i.name, i.id")
	if f.FlavourID != "" {
		q = q.Where("EXISTS (SELECT 1 FROM image_flavours AS x WHERE x.image_id = i.id AND x.flavour_id = ?)", f.FlavourID)
	}
	if f.CloudProviderType != "" {
		q = q.Where("EXISTS (SELECT 1 FROM cloud_provider_images AS cp WHERE cp.image_id = i.id AND cp.type = ?)", f.CloudProviderType)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("catalog: list public images: %w", err)
	}
	if len(images) == 0 {
		return nil, 0, nil
	}

	osIDs := make([]string, 0, len(images))
	imageIDs := make([]string, len(images))
	for i, img := range images {
		osIDs = append(osIDs, img.OperatingSystemID)
		imageIDs[i] = img.ID
	}
	slices.Sort(osIDs)
	osIDs = slices.Compact(osIDs)

	var systems []operatingSystemRow
	if err := c.db.NewSelect().Model(&systems).Where("id IN (?)", bun.In(osIDs)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("catalog: operating systems: %w", err)
	}
	var defaults []imageRow
	if err := c.db.NewSelect().Model(&defaults).Column("id", "operating_system_id").
		Where("i.is_default = ?", true).Where("i.operating_system_id IN (?)", bun.In(osIDs)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("catalog: default images: %w", err)
	}
	var providerRows []cloudProviderImageRow
	if err := c.db.NewSelect().Model(&providerRows).Where("image_id IN (?)", bun.In(imageIDs)).
		Order("image_id", "type").Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("catalog: cloud provider images: %w", err)
	}

	defaultOf := make(map[string]string, len(defaults))
	for _, d := range defaults {
		defaultOf[d.OperatingSystemID] = d.ID
	}
	providers := make(map[string][]CloudProviderImage)
	for _, r := range providerRows {
		providers[r.ImageID] = append(providers[r.ImageID], r.providerImage())
	}
	imagesOf := make(map[string][]Image, len(systems))
	for _, r := range images {
		imagesOf[r.OperatingSystemID] = append(imagesOf[r.OperatingSystemID], r.image(providers[r.ID]))
	}

	result := make([]OperatingSystem, len(systems))
	for i, s := range systems {
		result[i] = OperatingSystem{
			ID:             s.ID,
			Name:           s.Name,
			Family:         s.Family,
			DefaultImageID: defaultOf[s.ID],
			Images:         imagesOf[s.ID],
		}
	}
	slices.SortFunc(result, func(a, b OperatingSystem) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return pagination.Slice(result, p), int64(len(result)), nil
}

func (r imageRow) image(providers []CloudProviderImage) Image {
	var auth []AuthenticationType
	if r.AuthPassword {
		auth = append(auth, AuthPassword)
	}
	if r.AuthSSH {
		auth = append(auth, AuthSSH)
	}
	return Image{
		ID:                  r.ID,
		OperatingSystemID:   r.OperatingSystemID,
		Alias:               r.Alias,
		Name:                r.Name,
		Username:            r.Username,
		Public:              r.Public,
		Available:           r.Available,
		AuthenticationTypes: auth,
		Release:             r.Release,
		ContainsSPLALicense: r.ContainsSPLALicense,
		VendorData:          r.VendorData,
		CloudProviderImages: providers,
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
	}
}
