package cli

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

func TestProjectCommands(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")

	ada.fails("you have no default project", "project", "get")
	wantLines(t, ada.run("project", "create", "Web shop"), []string{"ID", "NAME", "ROLE", "DEFAULT"}, []string{"Web shop", "owner", "yes"})
	created := decode(t, ada.run("project", "create", "staging", "-o", "json"), &cloudv1.CreateProjectResponse{}).GetProject()
	if created.GetName() != "staging" || created.GetId() == "" {
		t.Fatalf("project create -o json = %v", created)
	}

	list := ada.run("project", "list")
	wantLines(t, list, []string{"Web shop", "owner", "yes"}, []string{created.GetId(), "staging", "owner", "no"})
	if strings.Contains(list, "Pending invites") {
		t.Fatalf("project list shows invites where there are none:\n%s", list)
	}

	// JSON is the answer itself, the same document every time.
	js := ada.run("project", "list", "-o", "json")
	if again := ada.run("project", "list", "-o", "json"); again != js {
		t.Fatalf("project list -o json is not stable:\n%s\n%s", js, again)
	}
	res := decode(t, js, &cloudv1.ListProjectsResponse{})
	if len(res.GetProjects()) != 2 || res.GetTotal() != 2 || res.GetProjects()[0].GetName() != "Web shop" {
		t.Fatalf("project list -o json = %v", res)
	}
	// gRPC gives the same answer as Connect.
	if grpc := ada.run("project", "list", "-o", "json", "--protocol", "grpc"); grpc != js {
		t.Fatalf("project list over gRPC:\n%s\nover Connect:\n%s", grpc, js)
	}
	// YAML is the same document: field order kept, int64 still a string.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(ada.run("project", "list", "-o", "yaml")), &doc); err != nil {
		t.Fatal(err)
	}
	var asMap struct {
		Projects []struct{ Name string }
		Total    string
	}
	if err := doc.Decode(&asMap); err != nil || len(asMap.Projects) != 2 || asMap.Projects[1].Name != "staging" || asMap.Total != "2" {
		t.Fatalf("project list -o yaml = %+v, %v", asMap, err)
	}
	if first := doc.Content[0].Content[0].Value; first != "projects" {
		t.Fatalf("project list -o yaml starts with %q, want projects", first)
	}

	// PROJECT is an id or a name; none is the default project.
	wantLines(t, ada.run("project", "get"), []string{"Name:", "Web shop"}, []string{"Default:", "yes"},
		[]string{"USER ID", "E-MAIL"}, []string{ada.email, "owner", "member"})
	wantLines(t, ada.run("project", "get", created.GetId()), []string{"Name:", "staging"})
	ada.fails(`no project named "nope"`, "project", "get", "nope")

	ada.fails("nothing to change", "project", "update", "staging")
	wantLines(t, ada.run("project", "update", "staging", "--name", "production"), []string{created.GetId(), "production"})

	if out := ada.run("project", "default", "production"); !strings.Contains(out, "Your default project is now production.") {
		t.Fatalf("project default production said %q", out)
	}
	wantLines(t, ada.run("project", "default"), []string{created.GetId(), "production", "owner", "yes"})

	ada.fails("failed_precondition", "project", "delete", "production", "--yes")
	// Delete asks first, as node destroy does; --yes does not.
	webShop := decode(t, ada.run("project", "get", "Web shop", "-o", "json"), &cloudv1.GetProjectResponse{}).GetProject().GetId()
	if _, err := ada.try("n\n", "project", "delete", "Web shop"); err == nil || !strings.Contains(err.Error(), "not confirmed: nothing was done") {
		t.Fatalf("project delete answered no: %v", err)
	}
	ada.fails("no answer on standard input: give --yes to delete project Web shop ("+webShop+") with its memberships, invites and log without asking",
		"project", "delete", "Web shop")
	wantLines(t, ada.run("project", "get", webShop), []string{"Name:", "Web shop"})
	if out := ada.runIn("y\n", "project", "delete", "Web shop"); !strings.Contains(out, "Deleted project Web shop.") {
		t.Fatalf("project delete said %q", out)
	}
	ada.run("project", "create", "scratch")
	if out := ada.run("project", "delete", "scratch", "--yes", "-o", "json", "--protocol", "grpc"); out != "{}\n" {
		t.Fatalf("project delete -o json --protocol grpc printed %q, want the empty answer", out)
	}
	if got := decode(t, ada.run("project", "list", "-o", "json"), &cloudv1.ListProjectsResponse{}).GetProjects(); len(got) != 1 {
		t.Fatalf("projects after the delete: %v", got)
	}
}

// TestProjectGetShowsLocks: project get shows why a project cannot order
// nodes, until nothing stops it; its JSON stays GetProject's answer.
func TestProjectGetShowsLocks(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")

	ada.run("project", "create", "unpaid")
	wantLines(t, ada.run("project", "get", "unpaid"), []string{"Locks:", "missing_billing_profile", "(the project cannot order nodes)"})
	ada.run(append([]string{"billing-profile", "create"}, profileArgs...)...)
	ada.run("project", "update", "unpaid", "--billing-profile", "Analytical Engines GmbH")
	locked := ada.run("project", "get", "unpaid")
	wantLines(t, locked, []string{"Locks:", "missing_payment_profile", "(the project cannot order nodes)"})
	if strings.Contains(locked, "missing_billing_profile") {
		t.Fatalf("project get after the billing profile was given:\n%s", locked)
	}
	ada.run("payment", "card", "add", "--token", "tok_visa")
	wantLines(t, ada.run("project", "get", "unpaid"), []string{"Locks:", "none"})
	if got := decode(t, ada.run("project", "get", "unpaid", "-o", "json"), &cloudv1.GetProjectResponse{}); got.GetProject().GetName() != "unpaid" {
		t.Fatalf("project get -o json = %v", got)
	}
}

// TestProjectCreateRefusalIsReadable: an API refusal is printed as its code,
// message and field.
func TestProjectCreateRefusalIsReadable(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	ada.fails("invalid_argument: name: ", "project", "create", strings.Repeat("x", 1000))
	ada.fails(`no billing profile named "not-a-profile": there are none`, "project", "create", "paid", "--billing-profile", "not-a-profile")
	ada.fails("not_found: billing_address_id: billing profile", "project", "create", "paid", "--billing-profile", "0b0e5a5e-0000-4000-8000-000000000000")
}
