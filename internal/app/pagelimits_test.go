package app_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/project"
)

// TestPageLimitsDocumented keeps the table of default page limits in
// docs/concepts.md equal to the limits the list calls use.
func TestPageLimitsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/concepts.md")
	if err != nil {
		t.Fatal(err)
	}
	for call, limit := range map[string]int32{
		"`ListCountries`":                          catalog.CountriesPageLimit,
		"`ListTimezones`":                          catalog.TimezonesPageLimit,
		"`ListDatacenters`":                        catalog.DatacentersPageLimit,
		"`ListPublicImages`":                       catalog.PublicImagesPageLimit,
		"`ListProjectFlavours`":                    catalog.FlavoursPageLimit,
		"`ListProjects`":                           project.ProjectsPageLimit,
		"`ListProjectLogs` (v1 and v2)":            project.LogsPageLimit,
		"`ListNodes` (v1 and v2)":                  node.NodesPageLimit,
		"`ListUserSSHKeys`, `ListProjectSSHKeys`":  keyring.PageLimit,
		"`ListClients`":                            identity.ClientsPageLimit,
		"`ListBillingProfiles`":                    billing.ProfilesPageLimit,
		"`ListCreditCards`":                        billing.CardsPageLimit,
		"`ListPlanCodes`":                          billing.PlanCodesPageLimit,
		"`ListBillingProfileBills` (v1 and v2)":    billing.BillsPageLimit,
		"`ListBillingProfileProjects` (v1 and v2)": billing.ProjectsPageLimit,
	} {
		if row := fmt.Sprintf("| %s | %d |", call, limit); !strings.Contains(string(doc), row+"\n") {
			t.Errorf("docs/concepts.md lacks the row %q", row)
		}
	}
}
