package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConfirmTestCardOnAServerWithStripe: a server with a real payment
// provider has no test confirmation endpoint, and --token says so.
func TestConfirmTestCardOnAServerWithStripe(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c := &call{web: srv.Client(), server: srv.URL}
	_, err := c.confirmTestCard(t.Context(), "seti_123_secret_456", "tok_visa")
	if err == nil || !strings.Contains(err.Error(), "the server does not confirm test cards (POST /payment/test/confirm answered 404 Not Found)") {
		t.Fatalf("confirmTestCard = %v", err)
	}
}
