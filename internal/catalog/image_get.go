package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gpcore/gpcore/internal/fault"
)

// GetImage returns the image with the given id, with its cloud provider
// images, or a NotFound fault naming the image.
func (c *Catalog) GetImage(ctx context.Context, id string) (Image, error) {
	var row imageRow
	err := c.db.NewSelect().Model(&row).Where("i.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, fault.NotFound("image", id)
	}
	if err != nil {
		return Image{}, fmt.Errorf("catalog: get image %s: %w", id, err)
	}
	var providerRows []cloudProviderImageRow
	if err := c.db.NewSelect().Model(&providerRows).Where("image_id = ?", id).Order("type").Scan(ctx); err != nil {
		return Image{}, fmt.Errorf("catalog: cloud provider images of %s: %w", id, err)
	}
	providers := make([]CloudProviderImage, len(providerRows))
	for i, r := range providerRows {
		providers[i] = r.providerImage()
	}
	return row.image(providers), nil
}

// providerImage is the domain form of a cloud_provider_images row.
func (r cloudProviderImageRow) providerImage() CloudProviderImage {
	return CloudProviderImage{
		ID:                   r.ID,
		Type:                 r.Type,
		CloudProviderImageID: r.CloudProviderImageID,
		CreatedAt:            r.CreatedAt.UTC(),
		UpdatedAt:            r.UpdatedAt.UTC(),
	}
}

// ImageInstallable reports whether the image may be installed on servers of
// the flavour (the seed's image flavours).
func (c *Catalog) ImageInstallable(ctx context.Context, imageID, flavourID string) (bool, error) {
	ok, err := c.db.NewSelect().Model((*imageFlavourRow)(nil)).
		Where("image_id = ?", imageID).Where("flavour_id = ?", flavourID).
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("catalog: may image %s go on flavour %s: %w", imageID, flavourID, err)
	}
	return ok, nil
}
