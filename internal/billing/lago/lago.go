// Package lago is the plan catalog of an installation that bills through
// Lago (getlago.com): the codes of the plans Lago's API lists
// (GET /api/v1/plans, authenticated with the organisation's API key as a
// bearer token, followed page by page through its meta.next_page).
package lago

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gpcore/gpcore/internal/billing"
)

// Defaults for Config fields left zero.
const (
	// DefaultURL is Lago's hosted API.
	DefaultURL = "https://api.getlago.com"
	// requestTimeout bounds one page request.
	requestTimeout = 30 * time.Second
)

// perPage is how many plans one request asks for.
const perPage = 100

// maxPages stops a catalog that never ends (a server that always announces
// a next page).
const maxPages = 1000

// Config says how to reach Lago.
type Config struct {
	// URL is the base URL of Lago's API, e.g. "https://lago.example.com"
	// (DefaultURL if empty).
	URL string
	// APIKey is the organisation's API key.
	APIKey string
	// HTTPClient makes the requests (one with a 30 s timeout if nil).
	HTTPClient *http.Client
}

// Client reads Lago's plans.
type Client struct {
	plans  *url.URL
	apiKey string
	http   *http.Client
}

var _ billing.PlanCatalog = (*Client)(nil)

// New returns a client configured by cfg. It calls nothing yet.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("lago: an API key is required")
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("lago: URL %q is not an absolute http or https URL", cfg.URL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: requestTimeout}
	}
	return &Client{plans: base.JoinPath("api", "v1", "plans"), apiKey: cfg.APIKey, http: cfg.HTTPClient}, nil
}

// plansPage is the part of a GET /api/v1/plans answer the client reads.
type plansPage struct {
	Plans []struct {
		Code string `json:"code"`
	} `json:"plans"`
	Meta struct {
		NextPage *int `json:"next_page"`
	} `json:"meta"`
}

// PlanCodes implements billing.PlanCatalog: the codes of every plan Lago
// lists, all pages.
func (c *Client) PlanCodes(ctx context.Context) ([]string, error) {
	var codes []string
	for page := 1; page <= maxPages; {
		p, err := c.page(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, plan := range p.Plans {
			if plan.Code != "" {
				codes = append(codes, plan.Code)
			}
		}
		if p.Meta.NextPage == nil || *p.Meta.NextPage <= page {
			return codes, nil
		}
		page = *p.Meta.NextPage
	}
	return nil, fmt.Errorf("lago: list plans: more than %d pages", maxPages)
}

// page fetches one page of plans.
func (c *Client) page(ctx context.Context, page int) (plansPage, error) {
	u := *c.plans
	u.RawQuery = url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return plansPage{}, fmt.Errorf("lago: list plans: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return plansPage{}, fmt.Errorf("lago: list plans: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return plansPage{}, fmt.Errorf("lago: list plans: read page %d: %w", page, err)
	}
	if res.StatusCode != http.StatusOK {
		return plansPage{}, fmt.Errorf("lago: list plans: page %d: %s: %.200s", page, res.Status, body)
	}
	var p plansPage
	if err := json.Unmarshal(body, &p); err != nil {
		return plansPage{}, fmt.Errorf("lago: list plans: page %d: %w", page, err)
	}
	return p, nil
}
