// Package cloudv1 serves gpcore.api.cloud.v1.CloudService, the customers'
// daily driver: the catalog now; projects, nodes and billing as they are built.
package cloudv1

import (
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/catalog"
)

// Handler implements CloudService v1. Methods not built yet answer Unimplemented.
type Handler struct {
	cloudv1connect.UnimplementedCloudServiceHandler
	catalog *catalog.Catalog
}

// New returns the v1 CloudService handler.
func New(cat *catalog.Catalog) *Handler {
	return &Handler{catalog: cat}
}
