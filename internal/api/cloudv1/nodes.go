package cloudv1

import (
	"context"
	"strconv"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/node"
)

// CreateNode orders one node per FQDN; every precondition is checked before
// anything is written (see node.Service.Create), and the nodes come back
// DEPLOYING while their installs run in the background.
func (h *Handler) CreateNode(ctx context.Context, req *connect.Request[cloudv1.CreateNodeRequest]) (*connect.Response[cloudv1.CreateNodeResponse], error) {
	m := req.Msg
	o := node.Order{FQDNs: m.GetFqdns(), Password: m.GetPassword(), UserData: m.GetUserData()}
	var err error
	if o.ProjectID, err = apiconv.UUID("project_id", m.GetProjectId()); err != nil {
		return nil, err
	}
	if o.DatacenterID, err = apiconv.UUID("datacenter_id", m.GetDatacenterId()); err != nil {
		return nil, err
	}
	if o.FlavourID, err = apiconv.UUID("flavour_id", m.GetFlavourId()); err != nil {
		return nil, err
	}
	if o.ImageID, err = apiconv.UUID("image_id", m.GetImageId()); err != nil {
		return nil, err
	}
	if o.SSHKeyIDs, err = uuids("ssh_key_ids", m.GetSshKeyIds()); err != nil {
		return nil, err
	}
	if o.BillingPeriod, err = apiconv.EnumName[node.BillingPeriod]("billing_period", m.GetBillingPeriod(), "BILLING_PERIOD_"); err != nil {
		return nil, err
	}
	nodes, err := h.nodes.Create(ctx, interceptor.CallerID(ctx), o)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.Node, len(nodes))
	for i, n := range nodes {
		out[i] = nodeMessage(n)
	}
	return connect.NewResponse(&cloudv1.CreateNodeResponse{Nodes: out}), nil
}

// GetNode returns a node of a project the caller is a member of.
func (h *Handler) GetNode(ctx context.Context, req *connect.Request[cloudv1.GetNodeRequest]) (*connect.Response[cloudv1.GetNodeResponse], error) {
	projectID, id, err := nodeRef(req.Msg)
	if err != nil {
		return nil, err
	}
	n, err := h.nodes.Get(ctx, interceptor.CallerID(ctx), projectID, id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetNodeResponse{Node: nodeMessage(n)}), nil
}

// ListNodes lists the nodes of a project, ordered by FQDN, a page of at most
// node.NodesPageLimit (the default). search matches FQDNs, IP addresses,
// tags and statuses; extended_search takes the filters
// GetNodeSearchOptions lists.
func (h *Handler) ListNodes(ctx context.Context, req *connect.Request[cloudv1.ListNodesRequest]) (*connect.Response[cloudv1.ListNodesResponse], error) {
	m := req.Msg
	id, err := apiconv.UUID("id", m.GetId())
	if err != nil {
		return nil, err
	}
	page, err := apiconv.Page(m.GetPagination(), node.NodesPageLimit)
	if err != nil {
		return nil, err
	}
	q := node.Query{Search: m.GetSearch()}
	for _, f := range m.GetExtendedSearch().GetFilters() {
		q.Filters = append(q.Filters, node.Filter{Name: f.GetName(), Value: filterValue(f)})
	}
	nodes, total, err := h.nodes.List(ctx, interceptor.CallerID(ctx), id, q, page)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.Node, len(nodes))
	for i, n := range nodes {
		out[i] = nodeMessage(n)
	}
	return connect.NewResponse(&cloudv1.ListNodesResponse{
		Nodes: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// filterValue is an extended search filter's value as text.
func filterValue(f *typev1.Filter) string {
	switch v := f.GetValue().(type) {
	case *typev1.Filter_StringValue:
		return v.StringValue
	case *typev1.Filter_IntegerValue:
		return strconv.FormatInt(v.IntegerValue, 10)
	case *typev1.Filter_BooleanValue:
		return strconv.FormatBool(v.BooleanValue)
	}
	return ""
}

// GetNodeSearchOptions lists the filters ListNodes' extended search takes
// for a project, with the choices of the dropdowns.
func (h *Handler) GetNodeSearchOptions(ctx context.Context, req *connect.Request[cloudv1.GetNodeSearchOptionsRequest]) (*connect.Response[cloudv1.GetNodeSearchOptionsResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	opts, err := h.nodes.SearchOptions(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	out := make([]*typev1.SearchOption, len(opts))
	for i, o := range opts {
		out[i] = &typev1.SearchOption{
			Name:           o.Name,
			Label:          &o.Label,
			Description:    &o.Description,
			Type:           apiconv.Enum[typev1.SearchOptionType](typev1.SearchOptionType_value, "SEARCH_OPTION_TYPE_", o.Type),
			DropdownValues: o.Values,
		}
	}
	return connect.NewResponse(&cloudv1.GetNodeSearchOptionsResponse{Options: &typev1.SearchOptions{Options: out}}), nil
}

// UpdateNode renames a node and sets tags on it; a tag with an empty value
// is removed.
func (h *Handler) UpdateNode(ctx context.Context, req *connect.Request[cloudv1.UpdateNodeRequest]) (*connect.Response[cloudv1.UpdateNodeResponse], error) {
	projectID, id, err := nodeRef(req.Msg)
	if err != nil {
		return nil, err
	}
	n, err := h.nodes.Update(ctx, interceptor.CallerID(ctx), projectID, id, node.Update{
		FQDN: req.Msg.GetFqdn(), Tags: req.Msg.GetTags(),
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.UpdateNodeResponse{Node: nodeMessage(n)}), nil
}

// PowerActionNode switches a node on or off or resets it, in the
// background; the node's power_state shows when it is done.
func (h *Handler) PowerActionNode(ctx context.Context, req *connect.Request[cloudv1.PowerActionNodeRequest]) (*connect.Response[cloudv1.PowerActionNodeResponse], error) {
	projectID, id, err := nodeRef(req.Msg)
	if err != nil {
		return nil, err
	}
	target, err := apiconv.RequiredEnumName("power_state", req.Msg.GetPowerState(), "SERVER_POWER_STATE_",
		catalog.PowerOn, catalog.PowerOff, catalog.PowerReset)
	if err != nil {
		return nil, err
	}
	if err := h.nodes.Power(ctx, interceptor.CallerID(ctx), projectID, id, target); err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.PowerActionNodeResponse{}), nil
}

// ChangeNodeRescueMode boots a node's rescue system, or its installed system
// again. Switching rescue mode on answers with the rescue system's random
// root password, shown only here.
func (h *Handler) ChangeNodeRescueMode(ctx context.Context, req *connect.Request[cloudv1.ChangeNodeRescueModeRequest]) (*connect.Response[cloudv1.ChangeNodeRescueModeResponse], error) {
	projectID, id, err := nodeRef(req.Msg)
	if err != nil {
		return nil, err
	}
	enable := req.Msg.GetRescueMode().GetEnabled()
	password, err := h.nodes.Rescue(ctx, interceptor.CallerID(ctx), projectID, id, enable)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.ChangeNodeRescueModeResponse{
		RescueMode: &cloudv1.RescueMode{Enabled: enable, Password: password},
	}), nil
}

// ReinstallNode wipes a node and installs it anew in the background; empty
// fields keep the node's image and name.
func (h *Handler) ReinstallNode(ctx context.Context, req *connect.Request[cloudv1.ReinstallNodeRequest]) (*connect.Response[cloudv1.ReinstallNodeResponse], error) {
	m := req.Msg
	projectID, id, err := nodeRef(m)
	if err != nil {
		return nil, err
	}
	r := node.Reinstall{FQDN: m.GetFqdn(), Password: m.GetPassword(), UserData: m.GetUserData()}
	if m.GetImageId() != "" {
		if r.ImageID, err = apiconv.UUID("image_id", m.GetImageId()); err != nil {
			return nil, err
		}
	}
	if r.SSHKeyIDs, err = uuids("ssh_key_ids", m.GetSshKeyIds()); err != nil {
		return nil, err
	}
	n, err := h.nodes.Reinstall(ctx, interceptor.CallerID(ctx), projectID, id, r)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.ReinstallNodeResponse{Node: nodeMessage(n)}), nil
}

// GetRemoteConsoleAccess opens a remote console session on the BMC of a
// node's server (node.Service.Console) and answers with where to connect
// (hostname), the VNC credentials the BMC takes until the session ends, and
// the session's JWT, signed by gpcore's OpenID Connect issuer for the
// console audience.
func (h *Handler) GetRemoteConsoleAccess(ctx context.Context, req *connect.Request[cloudv1.GetRemoteConsoleAccessRequest]) (*connect.Response[cloudv1.GetRemoteConsoleAccessResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	access, err := h.nodes.Console(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetRemoteConsoleAccessResponse{
		Token: access.Token, Hostname: access.Hostname, Username: access.Username, Password: access.Password,
	}), nil
}

// ChangeNodeBillingPeriod asks for a node to be billed by another period
// when its current one ends; the node shows the change as
// target_billing_period until then.
func (h *Handler) ChangeNodeBillingPeriod(ctx context.Context, req *connect.Request[cloudv1.ChangeNodeBillingPeriodRequest]) (*connect.Response[cloudv1.ChangeNodeBillingPeriodResponse], error) {
	projectID, id, err := nodeRef(req.Msg)
	if err != nil {
		return nil, err
	}
	period, err := apiconv.RequiredEnumName("billing_period", req.Msg.GetBillingPeriod(), "BILLING_PERIOD_", node.Hourly, node.Monthly)
	if err != nil {
		return nil, err
	}
	n, err := h.nodes.ChangeBillingPeriod(ctx, interceptor.CallerID(ctx), projectID, id, period)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.ChangeNodeBillingPeriodResponse{Node: nodeMessage(n)}), nil
}

// DestroyNode deletes a node: its usage ends now, its server is cleaned and
// released in the background.
func (h *Handler) DestroyNode(ctx context.Context, req *connect.Request[cloudv1.DestroyNodeRequest]) (*connect.Response[cloudv1.DestroyNodeResponse], error) {
	projectID, id, err := nodeRef(req.Msg)
	if err != nil {
		return nil, err
	}
	if err := h.nodes.Destroy(ctx, interceptor.CallerID(ctx), projectID, id); err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.DestroyNodeResponse{}), nil
}

// GetUserNodeLimit answers how many nodes the caller may have at once and
// how many they have.
func (h *Handler) GetUserNodeLimit(ctx context.Context, _ *connect.Request[cloudv1.GetUserNodeLimitRequest]) (*connect.Response[cloudv1.GetUserNodeLimitResponse], error) {
	limit, current, err := h.nodes.NodeLimit(ctx, interceptor.CallerID(ctx))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetUserNodeLimitResponse{
		UserLimit: &cloudv1.UserNodeLimit{Limit: int32(limit), Current: int32(current)},
	}), nil
}

// nodeRef checks the node and project ids of a request about one node.
func nodeRef(msg interface {
	GetId() string
	GetProjectId() string
},
) (projectID, id string, err error) {
	if projectID, err = apiconv.UUID("project_id", msg.GetProjectId()); err != nil {
		return "", "", err
	}
	if id, err = apiconv.UUID("id", msg.GetId()); err != nil {
		return "", "", err
	}
	return projectID, id, nil
}

// uuids checks a list of ids, each a UUID, naming field.
func uuids(field string, ids []string) ([]string, error) {
	out := make([]string, len(ids))
	for i, raw := range ids {
		id, err := apiconv.UUID(field, raw)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// nodeMessage is a node as the API shows it. A deleted node (shown only in
// notifications) is billed DELETED.
func nodeMessage(n node.Node) *cloudv1.Node {
	out := &cloudv1.Node{
		Id:                n.ID,
		ProjectId:         n.ProjectID,
		Fqdn:              n.FQDN,
		Status:            apiconv.Enum[cloudv1.ServerProvisioningState](cloudv1.ServerProvisioningState_value, "SERVER_PROVISIONING_STATE_", n.Status),
		NetworkInterfaces: make([]*cloudv1.NodeNetworkInterface, len(n.Interfaces)),
		Tags:              n.Tags,
		Datacenter:        datacenter(n.Datacenter),
		Flavour:           flavour(n.Flavour),
		Image:             image(n.Image),
		HasConsoleAccess:  n.HasConsoleAccess,
		BillingPeriod:     billingPeriod(n.BillingPeriod),
		PowerState:        apiconv.Enum[cloudv1.ServerPowerState](cloudv1.ServerPowerState_value, "SERVER_POWER_STATE_", n.PowerState),
		HasSplaLicense:    n.Image.ContainsSPLALicense,
		LoginHint:         &cloudv1.NodeLoginHint{Username: n.Login.Username, HasPassword: n.Login.HasPassword},
		PaidUntilAt:       apiconv.Time(n.PaidUntil),
		CreatedAt:         apiconv.Time(n.CreatedAt),
		UpdatedAt:         apiconv.Time(n.UpdatedAt),
	}
	for i, iface := range n.Interfaces {
		out.NetworkInterfaces[i] = &cloudv1.NodeNetworkInterface{
			Mac:         iface.MAC,
			IpAddresses: iface.IPs,
			Type:        apiconv.Enum[cloudv1.NetworkType](cloudv1.NetworkType_value, "NETWORK_TYPE_", iface.Type),
		}
	}
	if n.TargetBillingPeriod != "" {
		target := billingPeriod(n.TargetBillingPeriod)
		out.TargetBillingPeriod = &target
	}
	if !n.DeletedAt.IsZero() {
		out.BillingPeriod = cloudv1.BillingPeriod_BILLING_PERIOD_DELETED
	}
	return out
}

func billingPeriod(p node.BillingPeriod) cloudv1.BillingPeriod {
	return apiconv.Enum[cloudv1.BillingPeriod](cloudv1.BillingPeriod_value, "BILLING_PERIOD_", p)
}

// image is the full image view of a node's image: the fields BasicImage
// has, and its operating system's id.
func image(img catalog.Image) *cloudv1.Image {
	b := basicImage(img)
	return &cloudv1.Image{
		Id:                  b.Id,
		OperatingSystem:     &cloudv1.OperatingSystem{Id: img.OperatingSystemID},
		Name:                b.Name,
		Username:            b.Username,
		Public:              b.Public,
		Available:           b.Available,
		AuthenticationTypes: b.AuthenticationTypes,
		Alias:               b.Alias,
		Release:             b.Release,
		ContainsSplaLicense: b.ContainsSplaLicense,
		CreatedAt:           b.CreatedAt,
		UpdatedAt:           b.UpdatedAt,
	}
}
