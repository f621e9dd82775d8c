package interceptor

import (
	"context"
	"slices"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpcorev1 "github.com/gpcore/gpcore/gen/gpcore/v1"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/fault"
)

// AgentRole is the role a client-credentials token needs, on top of being a
// client token, to call CLIENT methods (the datacenter agents' API: DHCP,
// metadata, monitoring, image gateway). Customers' own OAuth clients do not
// hold it, so they cannot read other customers' metadata.
const AgentRole = "datacenter-agent"

// Verifier checks a bearer token and returns who presented it.
type Verifier interface {
	Verify(ctx context.Context, rawToken string) (*auth.Principal, error)
}

type principalKey struct{}

// Principal returns the authenticated caller of the current RPC, or nil on a
// PUBLIC method called without a token.
func Principal(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

// CallerID is the id of the account the current RPC acts as (a person or a
// client's service account); empty on a PUBLIC method called without a token.
// The policy guarantees one on every USER and CLIENT method.
func CallerID(ctx context.Context) string {
	if p := Principal(ctx); p != nil {
		return p.UserID
	}
	return ""
}

// WithPrincipal returns ctx carrying p; handlers read it with Principal.
func WithPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Policy authenticates every call and applies the method's gpcore.v1.api
// option: PUBLIC needs nothing, USER a user or service-account token, CLIENT a
// client-credentials token holding AgentRole, and required_roles every role
// listed. A method without the option is USER.
type Policy struct {
	verifier Verifier
	cache    sync.Map // procedure -> *gpcorev1.GPCORESettings
}

// NewPolicy returns the authorization interceptor using v to check tokens.
func NewPolicy(v Verifier) *Policy { return &Policy{verifier: v} }

func (p *Policy) settings(spec connect.Spec) *gpcorev1.GPCORESettings {
	if s, ok := p.cache.Load(spec.Procedure); ok {
		return s.(*gpcorev1.GPCORESettings)
	}
	s := &gpcorev1.GPCORESettings{AuthorizationType: gpcorev1.AuthorizationType_AUTHORIZATION_TYPE_USER}
	if md, ok := spec.Schema.(protoreflect.MethodDescriptor); ok {
		if opts := md.Options(); opts != nil && proto.HasExtension(opts, gpcorev1.E_Api) {
			s = proto.GetExtension(opts, gpcorev1.E_Api).(*gpcorev1.GPCORESettings)
			if s.GetAuthorizationType() == gpcorev1.AuthorizationType_AUTHORIZATION_TYPE_UNSPECIFIED {
				s = proto.CloneOf(s)
				s.AuthorizationType = gpcorev1.AuthorizationType_AUTHORIZATION_TYPE_USER
			}
		}
	}
	p.cache.Store(spec.Procedure, s)
	return s
}

// authorize returns the context to run the handler with, or the refusal.
func (p *Policy) authorize(ctx context.Context, spec connect.Spec, header map[string][]string) (context.Context, error) {
	s := p.settings(spec)
	raw, hasToken := bearer(header)
	if s.GetAuthorizationType() == gpcorev1.AuthorizationType_AUTHORIZATION_TYPE_PUBLIC && !hasToken {
		return ctx, nil
	}
	if !hasToken {
		return nil, fault.Unauthenticated("missing bearer token: send the header 'authorization: Bearer <access token>'")
	}
	principal, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		if s.GetAuthorizationType() == gpcorev1.AuthorizationType_AUTHORIZATION_TYPE_PUBLIC {
			return ctx, nil // a stale token does not stop a public call
		}
		return nil, err
	}
	noteCaller(ctx, principal) // for the audit log, refused or not
	switch s.GetAuthorizationType() {
	case gpcorev1.AuthorizationType_AUTHORIZATION_TYPE_CLIENT:
		if principal.Kind != auth.PrincipalClient {
			return nil, fault.Denied("%s needs a client-credentials token", spec.Procedure)
		}
		if !slices.Contains(principal.Roles, AgentRole) {
			return nil, fault.Denied("%s needs the role %q", spec.Procedure, AgentRole)
		}
	}
	for _, role := range s.GetRequiredRoles() {
		if !slices.Contains(principal.Roles, role) {
			return nil, fault.Denied("%s needs the role %q", spec.Procedure, role)
		}
	}
	return WithPrincipal(ctx, principal), nil
}

func bearer(header map[string][]string) (string, bool) {
	for _, v := range header["Authorization"] {
		if scheme, token, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "bearer") && token != "" {
			return strings.TrimSpace(token), true
		}
	}
	return "", false
}

// WrapUnary implements connect.Interceptor.
func (p *Policy) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := p.authorize(ctx, req.Spec(), req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapStreamingClient implements connect.Interceptor.
func (p *Policy) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (p *Policy) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := p.authorize(ctx, conn.Spec(), conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
