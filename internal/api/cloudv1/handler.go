// Package cloudv1 serves gpcore.api.cloud.v1.CloudService, the customers'
// daily driver: the catalog, projects with their members, invites, flavours
// and logs, and SSH keys; nodes and billing as they are built.
//
// Handlers check the request's shape (ids are UUIDs, enums are known values,
// pagination is sane), call the domain as the caller
// (interceptor.CallerID), and map the result to proto. Domain errors are
// returned unchanged; the error interceptor turns them into codes.
package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
)

// Handler implements CloudService v1. Methods not built yet answer Unimplemented.
type Handler struct {
	cloudv1connect.UnimplementedCloudServiceHandler
	catalog  *catalog.Catalog
	projects *project.Service
	keys     *keyring.Service
	users    *identity.Service
	nodes    *node.Service
	// hub feeds SubscribeNotifications.
	hub *notify.Hub
	// billing answers usage and bills.
	billing *billing.Service
}

// New returns the v1 CloudService handler.
func New(cat *catalog.Catalog, projects *project.Service, keys *keyring.Service, users *identity.Service,
	nodes *node.Service, hub *notify.Hub, bill *billing.Service,
) *Handler {
	return &Handler{catalog: cat, projects: projects, keys: keys, users: users, nodes: nodes, hub: hub, billing: bill}
}

// actOnID answers the calls whose request is just the id of one object and
// whose response is empty (delete, leave, make default): it checks the id,
// has do act on it as the caller, and answers with an empty Res.
func actOnID[Res any](ctx context.Context, msg interface{ GetId() string }, do func(ctx context.Context, callerID, id string) error) (*connect.Response[Res], error) {
	id, err := apiconv.UUID("id", msg.GetId())
	if err != nil {
		return nil, err
	}
	if err := do(ctx, interceptor.CallerID(ctx), id); err != nil {
		return nil, err
	}
	return connect.NewResponse(new(Res)), nil
}
