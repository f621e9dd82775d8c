package interceptor

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gpcore/gpcore/internal/audit"
	"github.com/gpcore/gpcore/internal/auth"
)

// RequestIDHeader is the header a call's request id comes in and goes back in.
const RequestIDHeader = "X-Request-Id"

// MaxRequestIDLength bounds an incoming request id.
const MaxRequestIDLength = 128

// maxUserAgent bounds the User-Agent an entry keeps, in bytes.
const maxUserAgent = 512

// Audit gives every call a request id and records every call made with a
// valid access token in the audit log: procedure, result code, the token's
// subject and ids, the account and client, the caller's IP address and user
// agent, the request id and the request as JSON with every field the protos
// mark [debug_redact = true] redacted. A call without a valid token (a PUBLIC method called
// anonymously, or a refused token) is not recorded: there is nobody to
// attribute it to, and the request log has it. A call whose token is valid
// but which the policy refuses (a missing role) is recorded with its code.
//
// The request id is the caller's X-Request-Id when it is well-formed (1 to
// MaxRequestIDLength letters, digits and "-_.:+/="), otherwise a new UUID; it
// goes back in the response's X-Request-Id header, errors included, and
// RequestID gives it to the code below.
//
// The caller's IP address is the connection's peer, unless the peer is one of
// the trusted proxies: then X-Forwarded-For is read from the right, skipping
// trusted proxies, and the first address that is not one is the caller's.
// With no trusted proxies X-Forwarded-For is ignored, so callers cannot forge
// their address.
//
// Unary calls are recorded when they end; streams once, when the handler
// reads the request (or when they end, if refused before that), with an empty
// code. Audit must run outside Policy, which tells it the caller, and outside
// Errors, so that it sees the codes callers get.
type Audit struct {
	log     *audit.Log
	proxies []netip.Prefix
}

// NewAudit returns the audit interceptor writing to log and trusting the
// X-Forwarded-For header of peers within proxies.
func NewAudit(log *audit.Log, proxies []netip.Prefix) *Audit {
	return &Audit{log: log, proxies: proxies}
}

type callKey struct{}

// call is what Audit knows of the call it wraps; Policy fills in the caller.
type call struct {
	requestID string
	caller    *auth.Principal
}

// RequestID returns the current call's request id (empty outside a call that
// Audit wraps).
func RequestID(ctx context.Context) string {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c.requestID
	}
	return ""
}

// noteCaller tells the Audit wrapping ctx's call who the verified caller is.
func noteCaller(ctx context.Context, p *auth.Principal) {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		c.caller = p
	}
}

// startCall returns ctx carrying a new call with its request id.
func startCall(ctx context.Context, header http.Header) (context.Context, *call) {
	c := &call{requestID: header.Get(RequestIDHeader)}
	if !validRequestID(c.requestID) {
		c.requestID = uuid.NewString()
	}
	return context.WithValue(ctx, callKey{}, c), c
}

// validRequestID reports whether id may be used as a request id.
func validRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLength {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.:+/=", r):
		default:
			return false
		}
	}
	return true
}

// WrapUnary implements connect.Interceptor.
func (a *Audit) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		ctx, c := startCall(ctx, req.Header())
		res, err := next(ctx, req)
		if c.caller != nil {
			a.record(c, req.Spec(), req.Peer(), req.Header(), requestJSON(req.Any()), start, codeOf(err))
		}
		var ce *connect.Error
		switch {
		case err == nil:
			res.Header().Set(RequestIDHeader, c.requestID)
		case errors.As(err, &ce):
			ce.Meta().Set(RequestIDHeader, c.requestID)
		}
		return res, err
	}
}

// WrapStreamingClient implements connect.Interceptor.
func (a *Audit) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (a *Audit) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		ctx, c := startCall(ctx, conn.RequestHeader())
		conn.ResponseHeader().Set(RequestIDHeader, c.requestID)
		s := &auditedStream{StreamingHandlerConn: conn, audit: a, call: c, start: start}
		err := next(ctx, s)
		if !s.recorded && c.caller != nil {
			a.record(c, conn.Spec(), conn.Peer(), conn.RequestHeader(), nil, start, codeOf(err))
		}
		return err
	}
}

// auditedStream records its call when the handler first reads the request.
type auditedStream struct {
	connect.StreamingHandlerConn
	audit    *Audit
	call     *call
	start    time.Time
	recorded bool
}

// Receive implements connect.StreamingHandlerConn.
func (s *auditedStream) Receive(msg any) error {
	err := s.StreamingHandlerConn.Receive(msg)
	if !s.recorded && s.call.caller != nil {
		s.recorded = true
		var payload []byte
		if err == nil {
			payload = requestJSON(msg)
		}
		s.audit.record(s.call, s.Spec(), s.Peer(), s.RequestHeader(), payload, s.start, "")
	}
	return err
}

// record queues the audit entry of call c; code is empty for a stream that
// is going on.
func (a *Audit) record(c *call, spec connect.Spec, peer connect.Peer, header http.Header, payload []byte, start time.Time, code string) {
	p := c.caller
	kind := audit.KindUser
	if p.Kind == auth.PrincipalClient {
		kind = audit.KindClient
	}
	a.log.Record(audit.Entry{
		CreatedAt: start.UTC(),
		RPCMethod: spec.Procedure,
		Code:      code,
		Stream:    spec.StreamType != connect.StreamTypeUnary,
		UserID:    p.UserID,
		ClientID:  p.ClientID,
		Kind:      kind,
		Token: audit.Token{
			Subject:   p.Subject,
			ID:        p.Token.ID,
			Issuer:    p.Token.Issuer,
			Type:      p.Token.Type,
			IssuedAt:  p.Token.IssuedAt,
			ExpiresAt: p.Token.ExpiresAt,
		},
		IPAddress: clientIP(peer.Addr, header.Values("X-Forwarded-For"), a.proxies),
		UserAgent: userAgent(header),
		RequestID: c.requestID,
		Payload:   payload,
	})
}

// userAgent returns the User-Agent header, cut to maxUserAgent bytes (less
// the bytes of a character cut in two).
func userAgent(header http.Header) string {
	ua := header.Get("User-Agent")
	if len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	return ua
}

// clientIP returns the caller's address given the connection's peer address
// (host:port), the X-Forwarded-For header values and the trusted proxies: the
// peer's address unless the peer is a trusted proxy; then X-Forwarded-For is
// read from the right, past every trusted proxy, and the first address that
// is not one is the caller's. When the header runs out, or holds something
// that is not an address, the last trusted hop read is the answer: nothing
// left of it can be believed.
func clientIP(peerAddr string, forwardedFor []string, proxies []netip.Prefix) string {
	peer, ok := parseAddr(peerAddr)
	if !ok {
		return peerAddr
	}
	client := peer
	if !trusted(client, proxies) {
		return client.String()
	}
	var hops []string
	for _, v := range forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseAddr(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		client = hop
		if !trusted(client, proxies) {
			break
		}
	}
	return client.String()
}

// parseAddr reads an IP address, with or without a port.
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
