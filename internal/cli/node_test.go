package cli

import (
	"regexp"
	"strings"
	"testing"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/internal/testserver"
)

// stateLine matches a line --wait writes: time, FQDN, state.
var stateLine = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  (\S+)  (.+)$`)

// states returns the states --wait showed for fqdn, in order.
func states(out, fqdn string) []string {
	var got []string
	for _, m := range stateLine.FindAllStringSubmatch(out, -1) {
		if m[1] == fqdn {
			got = append(got, m[2])
		}
	}
	return got
}

// wantStates fails the test unless --wait showed fqdn going from the state
// first (when not empty) to last, and last as its final state.
func wantStates(t *testing.T, out, fqdn, first, last string) {
	t.Helper()
	got := states(out, fqdn)
	if len(got) == 0 || got[len(got)-1] != last || first != "" && got[0] != first {
		t.Fatalf("--wait showed %s going through %q, want from %q to %q:\n%s", fqdn, got, first, last, out)
	}
}

// billed sets p up to order nodes the way a person does: a billing profile,
// a test card, and a project billed to the profile. It returns the
// project's name.
func billed(t *testing.T, p *person) string {
	t.Helper()
	p.run("billing-profile", "create", "--name", "Ada Lovelace", "--company", "Analytical Engines Inc.", "--country", "US",
		"--street", "1 Main St", "--city", "Springfield", "--postcode", "12345", "--billing-email", "billing@example.com")
	wantLines(t, p.run("payment", "card", "add", "--token", "tok_visa"), []string{"visa •••• 4242", "yes"})
	p.run("project", "create", "Web shop", "--billing-profile", "Analytical Engines Inc.")
	return "Web shop"
}

// TestNodeJourney walks the life of nodes through the CLI against a real
// server: the catalog, an order of two nodes watched to ACTIVE, power,
// rescue, reinstall and destruction watched to the end, the servers back in
// the pool, the project's usage and log.
func TestNodeJourney(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	billed(t, ada)
	ada.run("ssh-key", "add", keygen(t, "ada@laptop", "-t", "ed25519"))

	wantLines(t, ada.run("datacenter", "list"), []string{"fra1", "AVAILABLE"}, []string{"ber1", "COMING_SOON"})
	wantLines(t, ada.run("flavour", "list", "--datacenter", "fra1"), []string{"BM-S1", "€"})
	wantLines(t, ada.run("image", "list"), []string{"debian-12", "debian", "password, ssh", "yes"})
	ada.fails(`no datacenter named "fra9" (there are ber1, fra1)`, "flavour", "list", "--datacenter", "fra9")

	out := ada.run("node", "create", "--datacenter", "fra1", "--flavour", "bm-s1", "--image", "debian-12",
		"--fqdn", "web.example.net", "--count", "2", "--ssh-key", "ada@laptop", "--wait")
	for _, fqdn := range []string{"web1.example.net", "web2.example.net"} {
		wantStates(t, out, fqdn, "DEPLOYING", "ACTIVE")
		wantLines(t, out, []string{fqdn + " is ACTIVE."})
	}
	wantLines(t, out, []string{"IP addresses:", "."}, []string{"Log in:", "ssh debian@", "(with your SSH key)"})

	list := decode(t, ada.run("node", "list", "-o", "json"), &cloudv2.ListNodesResponse{})
	if len(list.GetNodes()) != 2 || list.GetNodes()[0].GetFqdn() != "web1.example.net" {
		t.Fatalf("node list -o json = %v", list)
	}
	ip := list.GetNodes()[0].GetNetworkInterfaces()[0].GetIpAddresses()[0]
	wantLines(t, out, []string{"ssh debian@" + ip})
	wantLines(t, ada.run("node", "list", "--search", "web2"), []string{"web2.example.net", "ACTIVE", "ON", "BM-S1", "debian-12"})
	if found := ada.run("node", "list", "--search", "web2"); strings.Contains(found, "web1") {
		t.Fatalf("node list --search web2 lists web1:\n%s", found)
	}
	// A name that is no node's: the error lists the nodes there are, not
	// those a search for the name found.
	ada.fails(`no node named "nope.example.net" (there are web1.example.net, web2.example.net)`, "node", "get", "nope.example.net")
	ada.fails(`no node named "web1.example" (there are web1.example.net, web2.example.net)`, "node", "get", "web1.example")
	wantLines(t, ada.run("node", "get", "Web1.Example.NET."), []string{"Status:", "ACTIVE"}, []string{"Login:", "debian"},
		[]string{"Interface:", ip}, []string{"Billing period:", "hourly"})

	// Power off and on, rescue on and off, reinstall: each watched to its end.
	out = ada.run("node", "power", "off", "web1.example.net", "--wait", "--protocol", "grpc")
	wantStates(t, out, "web1.example.net", "", "ACTIVE, power OFF")
	wantLines(t, out, []string{"web1.example.net is powered off."})
	wantStates(t, ada.run("node", "power", "on", "web1.example.net", "--wait"), "web1.example.net", "", "ACTIVE, power ON")
	out = ada.run("node", "power", "reset", "web1.example.net", "--wait")
	wantStates(t, out, "web1.example.net", "", "ACTIVE, power ON")
	wantLines(t, out, []string{"The reset of web1.example.net has ended: it is ACTIVE, power ON."})

	out = ada.run("node", "rescue", "on", "web1.example.net", "--wait")
	wantStates(t, out, "web1.example.net", "", "RESCUE")
	wantLines(t, out, []string{"runs its rescue system: ssh root@" + ip}, []string{"Root password of the rescue system (shown only now):"})
	out = ada.run("node", "rescue", "off", "web1.example.net", "--wait")
	wantStates(t, out, "web1.example.net", "", "ACTIVE")
	wantLines(t, out, []string{"web1.example.net runs its installed system again."})

	out = ada.run("node", "reinstall", "web1.example.net", "--image", "ubuntu-24.04", "--ssh-key", "ada@laptop", "--wait")
	wantStates(t, out, "web1.example.net", "", "ACTIVE")
	wantLines(t, out, []string{"Log in:", "ssh ubuntu@" + ip})
	got := decode(t, ada.run("node", "get", "web1.example.net", "-o", "json"), &cloudv1.GetNodeResponse{}).GetNode()
	if got.GetImage().GetAlias() != "ubuntu-24.04" || got.GetStatus() != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE {
		t.Fatalf("reinstalled node: %v", got)
	}

	wantLines(t, ada.run("node", "billing-period", "monthly", "web2.example.net"), []string{"web2.example.net is billed hourly until", "then monthly."})

	// Destroy asks first; --yes does not.
	if _, err := ada.try("n\n", "node", "destroy", "web2.example.net"); err == nil || !strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("destroy answered no: %v", err)
	}
	ada.fails("no answer on standard input: give --yes", "node", "destroy", "web2.example.net")
	out = ada.runIn("y\n", "node", "destroy", "web1.example.net", "web2.example.net", "--wait")
	for _, fqdn := range []string{"web1.example.net", "web2.example.net"} {
		wantStates(t, out, fqdn, "", "DESTROYED")
	}
	wantLines(t, out, []string{"Destroyed web1.example.net and web2.example.net."})
	if left := decode(t, ada.run("node", "list", "-o", "json"), &cloudv2.ListNodesResponse{}); len(left.GetNodes()) != 0 {
		t.Fatalf("nodes after the destruction: %v", left.GetNodes())
	}

	// The servers are back: all six BM-S1 servers of fra1 can be ordered.
	// With -o json the state lines go to the error output; the answer is the
	// nodes as they are at the end.
	six := decode(t, ada.run("node", "create", "--datacenter", "fra1", "--flavour", "BM-S1", "--image", "debian-12",
		"--fqdn", "s.example.net", "--count", "6", "--wait", "-o", "json"), &cloudv1.CreateNodeResponse{}).GetNodes()
	if len(six) != 6 || six[5].GetFqdn() != "s6.example.net" || six[5].GetStatus() != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE {
		t.Fatalf("node create --count 6 --wait -o json = %v", six)
	}
	ada.run("node", "destroy", "--yes", "--wait", "s1.example.net", "s2.example.net", "s3.example.net",
		"s4.example.net", "s5.example.net", "s6.example.net")
	// Without --wait, create answers at once.
	wantLines(t, ada.run("node", "create", "--datacenter", "fra1", "--flavour", "BM-S1", "--image", "debian-12", "--fqdn", "late.example.net"),
		[]string{"late.example.net", "DEPLOYING"}, []string{"being installed"})

	wantLines(t, ada.run("usage"), []string{"BM-S1", "hourly", "hours"}, []string{"web1.example.net"}, []string{"Total:"})
	wantLines(t, ada.run("usage", "--total"), []string{"Total:"})
	logs := ada.run("project", "logs")
	wantLines(t, logs, []string{ada.email, "ordered the node web1.example.net"}, []string{"destroyed the node web2.example.net"})
	wantLines(t, ada.run("project", "logs", "--search", "rescue", "--user", ada.email), []string{"enabled rescue mode"})
}

// TestNodeCreateRefusals: mistakes are caught before ordering, and the
// server's refusals are readable.
func TestNodeCreateRefusals(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	ada.run("project", "create", "unbilled")
	order := []string{"node", "create", "--datacenter", "fra1", "--flavour", "BM-S1", "--image", "debian-12"}
	ada.fails("--fqdn is required", order...)
	ada.fails("--count numbers one --fqdn", append(order, "--fqdn", "a.example", "--fqdn", "b.example", "--count", "2")...)
	ada.fails(`billing period "weekly": hourly or monthly`, append(order, "--fqdn", "a.example", "--billing-period", "weekly")...)
	ada.fails(`no image named "debian-99"`, "node", "create", "--datacenter", "fra1", "--flavour", "BM-S1", "--image", "debian-99", "--fqdn", "a.example")
	ada.fails(`no flavour named "BM-S9" in datacenter fra1 (there are BM-L1, BM-M1, BM-S1, BM-XL1)`, "node", "create", "--datacenter", "fra1", "--flavour", "BM-S9", "--image", "debian-12", "--fqdn", "a.example")
	ada.fails(`no SSH key named "nope" among the keys of the project's members: there are none`, append(order, "--fqdn", "a.example", "--ssh-key", "nope")...)
	// The server's refusal of a field names the flag that set it.
	ada.fails(`invalid_argument: --fqdn (fqdns): "bad_name.example"`, append(order, "--fqdn", "bad_name.example")...)
	if _, err := ada.try("aaaaaaaaaaaa\n", append(order, "--fqdn", "a.example", "--password-stdin")...); err == nil ||
		!strings.Contains(err.Error(), "invalid_argument: --password-stdin (password): must mix at least two kinds of characters") {
		t.Fatalf("node create with a weak password: %v", err)
	}
	// A project without a billing profile is locked.
	ada.fails("failed_precondition", append(order, "--fqdn", "a.example", "--wait")...)
	ada.fails(`no node named "ghost.example": there are none`, "node", "get", "ghost.example")
}

// TestNodeLoginHelp: the help of node create and reinstall says whom you
// log in as the way --wait does (the login hint: the image's login user,
// debian on debian-12, as TestNodeJourney sees), not root.
func TestNodeLoginHelp(t *testing.T) {
	p := newPerson(t, nil, "ada")
	for _, cmd := range []string{"create", "reinstall"} {
		help := p.run("node", cmd, "--help")
		if !strings.Contains(help, "the image's login user") || !strings.Contains(help, "as the image's login user; repeat for several") ||
			strings.Contains(strings.ToLower(help), "root logs in") || strings.Contains(help, "root's password") {
			t.Errorf("gpcore node %s --help does not say you log in as the image's login user:\n%s", cmd, help)
		}
	}
	if help := p.run("node", "create", "--help"); !strings.Contains(help, "You log in as the image's login user (debian on debian-12;") {
		t.Errorf("gpcore node create --help:\n%s", help)
	}
}
