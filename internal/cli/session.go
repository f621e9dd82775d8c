package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"
)

// session hands out the signed-in account's access token, renewing it when
// it has expired and keeping the renewed credentials in their file.
//
// Renewal is proactive (a token within expiryMargin of its expiry is renewed
// before a call) and reactive (a unary call the server refuses with
// Unauthenticated is renewed and retried once), so a wrong clock or a token
// revoked early costs one round trip, not a failed command. Refresh tokens are
// used once: when two gpcore processes renew at the same time, the loser
// finds its refresh token spent and takes the winner's credentials from the
// file instead.
type session struct {
	path string
	// web reaches the token endpoint.
	web *http.Client

	mu    sync.Mutex
	creds *Credentials
}

// server is the signed-in server's base URL.
func (s *session) server() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds.Server
}

// userID is the signed-in account's user id.
func (s *session) userID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds.UserID
}

// token returns an access token that is fresh now, renewing it if needed.
func (s *session) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.creds.fresh(time.Now()) {
		return s.creds.AccessToken, nil
	}
	return s.renewLocked(ctx)
}

// renew returns a new access token after the server refused refused; if
// another call renewed it meanwhile, that token.
func (s *session) renew(ctx context.Context, refused string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.creds.AccessToken != refused {
		return s.creds.AccessToken, nil
	}
	return s.renewLocked(ctx)
}

// renewLocked gets a new token and saves the credentials; s.mu is held.
func (s *session) renewLocked(ctx context.Context) (string, error) {
	tok, err := s.creds.newToken(ctx, s.web)
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) && rerr.ErrorCode == "invalid_grant" && s.adoptNewer() {
		return s.creds.AccessToken, nil
	}
	if err != nil {
		return "", fmt.Errorf("the session could not be renewed (%w): run `gpcore login` again", describe(err))
	}
	s.creds.setToken(tok)
	if err := s.creds.save(s.path); err != nil {
		return "", err
	}
	return s.creds.AccessToken, nil
}

// adoptNewer takes the credentials in the file when another process renewed
// them (its refresh token differs from ours) and they are fresh.
func (s *session) adoptNewer() bool {
	disk, err := loadCredentials(s.path)
	if err != nil || disk.RefreshToken == s.creds.RefreshToken || !disk.fresh(time.Now()) {
		return false
	}
	s.creds = disk
	return true
}

// interceptor signs every call in with the session's token. A unary call
// refused with Unauthenticated is retried once with a renewed token; a
// stream is opened with a fresh token and not retried.
func (s *session) interceptor() connect.Interceptor { return sessionInterceptor{s} }

// sessionInterceptor is session.interceptor's connect.Interceptor.
type sessionInterceptor struct{ s *session }

// WrapUnary signs the call in, and renews and retries once on Unauthenticated.
func (i sessionInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		token, err := i.s.token(ctx)
		if err != nil {
			return nil, err
		}
		req.Header().Set("Authorization", "Bearer "+token)
		res, err := next(ctx, req)
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			return res, err
		}
		if token, err = i.s.renew(ctx, token); err != nil {
			return nil, err
		}
		req.Header().Set("Authorization", "Bearer "+token)
		return next(ctx, req)
	}
}

// WrapStreamingClient opens the stream with a fresh token. A token that
// cannot be had fails the stream's first send.
func (i sessionInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		token, err := i.s.token(ctx)
		if err != nil {
			return failedStream{conn, err}
		}
		conn.RequestHeader().Set("Authorization", "Bearer "+token)
		return conn
	}
}

// WrapStreamingHandler is for servers; the CLI has none.
func (sessionInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// failedStream is a stream that could not be signed in: its first send fails
// with err, before anything reaches the server. (The API's only streams are
// server streams, whose client sends once and then receives.)
type failedStream struct {
	connect.StreamingClientConn
	err error
}

// Send fails with the sign-in error.
func (f failedStream) Send(any) error { return f.err }
