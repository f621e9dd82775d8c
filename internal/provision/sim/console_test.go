package sim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// withBMC is an ACTIVE server with a BMC, as the control plane records it.
func withBMC(id string) provision.Server {
	return provision.Server{ID: id, ProvisionState: catalog.StateActive, PowerState: catalog.PowerOn, BMCAddress: "10.0.0.7"}
}

// wantRefused fails the test unless the BMC of serverID refuses the login,
// with a reason containing why.
func wantRefused(t *testing.T, d *sim.Driver, serverID, username, password, why string) {
	t.Helper()
	err := d.ConsoleLogin(serverID, username, password)
	if !errors.Is(err, sim.ErrLoginRefused) || !strings.Contains(err.Error(), why) {
		t.Fatalf("ConsoleLogin(%s, %s) = %v, want a refusal saying %q", serverID, username, err, why)
	}
}

// TestConsoleSession: the BMC takes exactly the credentials of an open
// session, until the session's time is up by the sim's clock.
func TestConsoleSession(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock})
	srv := withBMC("s1")
	req := provision.ConsoleRequest{SessionID: "c1", Username: "console-1", Password: "hunter2-but-longer", ExpiresAt: clock.Now().Add(5 * time.Minute)}
	console, err := d.OpenConsole(t.Context(), srv, req)
	if err != nil {
		t.Fatal(err)
	}
	want := provision.Console{Host: "10.0.0.7", Username: req.Username, Password: req.Password, ExpiresAt: req.ExpiresAt}
	if console != want {
		t.Fatalf("console %+v, want %+v", console, want)
	}
	must(t, d.ConsoleLogin("s1", "console-1", "hunter2-but-longer"))
	wantRefused(t, d, "s1", "console-1", "hunter2", "no open session")
	wantRefused(t, d, "s1", "console-2", "hunter2-but-longer", "no open session")
	wantRefused(t, d, "s2", "console-1", "hunter2-but-longer", "no open session")

	// A repeated request changes nothing; the same session with other
	// credentials is refused.
	again, err := d.OpenConsole(t.Context(), srv, req)
	if err != nil || again != want {
		t.Fatalf("repeated OpenConsole = %+v, %v; want %+v", again, err, want)
	}
	other := req
	other.Password = "something else entirely"
	if _, err := d.OpenConsole(t.Context(), srv, other); fault.KindOf(err) != fault.KindAlreadyExists {
		t.Fatalf("OpenConsole of session c1 with another password = %v, want AlreadyExists", err)
	}
	wantRefused(t, d, "s1", "console-1", "something else entirely", "no open session")

	// A second session works beside the first, and each ends on its own.
	second := provision.ConsoleRequest{SessionID: "c2", Username: "console-2", Password: "another-password", ExpiresAt: clock.Now().Add(10 * time.Minute)}
	if _, err := d.OpenConsole(t.Context(), srv, second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5*time.Minute - time.Nanosecond)
	must(t, d.ConsoleLogin("s1", "console-1", "hunter2-but-longer"))
	clock.Advance(time.Nanosecond)
	wantRefused(t, d, "s1", "console-1", "hunter2-but-longer", "is over")
	must(t, d.ConsoleLogin("s1", "console-2", "another-password"))
	clock.Advance(5 * time.Minute)
	wantRefused(t, d, "s1", "console-2", "another-password", "is over")
}

// TestConsoleRefusals: bad requests name their field; a server without a
// BMC or without an instance has no console.
func TestConsoleRefusals(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock})
	ok := provision.ConsoleRequest{SessionID: "c1", Username: "console-1", Password: "pw-pw-pw-pw", ExpiresAt: clock.Now().Add(time.Minute)}
	for field, change := range map[string]func(*provision.ConsoleRequest){
		"session_id": func(r *provision.ConsoleRequest) { r.SessionID = "" },
		"username":   func(r *provision.ConsoleRequest) { r.Username = "" },
		"password":   func(r *provision.ConsoleRequest) { r.Password = "" },
		"expires_at": func(r *provision.ConsoleRequest) { r.ExpiresAt = clock.Now() },
	} {
		req := ok
		change(&req)
		_, err := d.OpenConsole(t.Context(), withBMC("s1"), req)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.KindInvalidArgument || fe.Field != field {
			t.Errorf("OpenConsole without a good %s = %v, want InvalidArgument naming it", field, err)
		}
	}

	noBMC := withBMC("s2")
	noBMC.BMCAddress = ""
	if _, err := d.OpenConsole(t.Context(), noBMC, ok); !errors.Is(err, fault.ErrFailedPrecondition) {
		t.Errorf("OpenConsole without a BMC = %v, want FailedPrecondition", err)
	}
	free := withBMC("s3")
	free.ProvisionState, free.PowerState = catalog.StateAvailable, catalog.PowerOff
	if _, err := d.OpenConsole(t.Context(), free, ok); !errors.Is(err, fault.ErrFailedPrecondition) {
		t.Errorf("OpenConsole of an AVAILABLE server = %v, want FailedPrecondition", err)
	}
	wantRefused(t, d, "s3", ok.Username, ok.Password, "no open session")

	// An installation in progress has a console to watch it on.
	must(t, d.Deploy(t.Context(), free, deployment))
	if _, err := d.OpenConsole(t.Context(), free, ok); err != nil {
		t.Errorf("OpenConsole during the deployment: %v", err)
	}
}

// TestDestroyClosesConsoles: once a teardown is accepted, the server's
// sessions take no login and no new one opens.
func TestDestroyClosesConsoles(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := withBMC("s1")
	req := provision.ConsoleRequest{SessionID: "c1", Username: "console-1", Password: "pw-pw-pw-pw", ExpiresAt: clock.Now().Add(time.Hour)}
	if _, err := d.OpenConsole(t.Context(), srv, req); err != nil {
		t.Fatal(err)
	}
	must(t, d.ConsoleLogin("s1", req.Username, req.Password))
	must(t, d.Destroy(t.Context(), srv))
	wantRefused(t, d, "s1", req.Username, req.Password, "no open session")
	if _, err := d.OpenConsole(t.Context(), srv, req); !errors.Is(err, fault.ErrFailedPrecondition) {
		t.Fatalf("OpenConsole while the server is torn down = %v, want FailedPrecondition", err)
	}
	must(t, d.Destroy(t.Context(), srv)) // a repeated teardown is still fine
}
