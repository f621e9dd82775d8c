package lago_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/billing/lago"
)

// lagoPlans answers GET /api/v1/plans like Lago's API: the plans of the
// requested page and the pagination meta, for the API key "lago-key".
func lagoPlans(t *testing.T, pages [][]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/plans" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer lago-key" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"status":401,"error":"Unauthorized"}`)
			return
		}
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page = %q", r.URL.Query().Get("per_page"))
		}
		var n int
		if _, err := fmt.Sscan(r.URL.Query().Get("page"), &n); err != nil || n < 1 || n > len(pages) {
			t.Errorf("page = %q", r.URL.Query().Get("page"))
			http.NotFound(w, r)
			return
		}
		var plans []string
		for _, code := range pages[n-1] {
			plans = append(plans, fmt.Sprintf(`{"lago_id":"1a901a90-1a90-1a90-1a90-1a901a901a90","name":%q,"code":%q,
				"interval":"monthly","amount_cents":1000,"amount_currency":"EUR","pay_in_advance":true,
				"created_at":"2024-01-01T00:00:00Z","charges":[]}`, strings.ToUpper(code), code))
		}
		next, prev := "null", "null"
		if n < len(pages) {
			next = fmt.Sprint(n + 1)
		}
		if n > 1 {
			prev = fmt.Sprint(n - 1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"plans":[%s],"meta":{"current_page":%d,"next_page":%s,"prev_page":%s,"total_pages":%d,"total_count":%d}}`,
			strings.Join(plans, ","), n, next, prev, len(pages), 0)
	})
}

func TestPlanCodes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(lagoPlans(t, [][]string{{"startup", "business"}, {"enterprise"}}))
	t.Cleanup(srv.Close)
	c, err := lago.New(lago.Config{URL: srv.URL + "/", APIKey: "lago-key"})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := c.PlanCodes(t.Context())
	if want := []string{"startup", "business", "enterprise"}; err != nil || !slices.Equal(codes, want) {
		t.Fatalf("PlanCodes = %v, %v; want %v", codes, err, want)
	}
}

func TestPlanCodesEmpty(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(lagoPlans(t, [][]string{{}}))
	t.Cleanup(srv.Close)
	c, err := lago.New(lago.Config{URL: srv.URL, APIKey: "lago-key"})
	if err != nil {
		t.Fatal(err)
	}
	if codes, err := c.PlanCodes(t.Context()); err != nil || len(codes) != 0 {
		t.Fatalf("PlanCodes = %v, %v; want none", codes, err)
	}
}

func TestPlanCodesErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(lagoPlans(t, [][]string{{"startup"}}))
	t.Cleanup(srv.Close)
	c, err := lago.New(lago.Config{URL: srv.URL, APIKey: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlanCodes(t.Context()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("PlanCodes with a wrong key = %v, want a 401 error", err)
	}

	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html>maintenance</html>")
	}))
	t.Cleanup(garbage.Close)
	c, err = lago.New(lago.Config{URL: garbage.URL, APIKey: "lago-key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlanCodes(t.Context()); err == nil {
		t.Error("PlanCodes from a non-JSON answer succeeded")
	}

	for _, cfg := range []lago.Config{{URL: srv.URL}, {URL: "ftp://lago.example.com", APIKey: "k"}, {URL: "lago.example.com", APIKey: "k"}} {
		if _, err := lago.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
