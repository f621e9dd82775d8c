package provision

import (
	"context"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
)

// Driver drives the hardware: it asks for operations on a server and
// reports how they are getting on. Every operation returns as soon as the
// hardware has accepted it; the caller then polls GetState until the server
// is Settled. This is how OpenStack Ironic works (a PUT of the provision
// state, then polling the node), and an Ironic driver implements Driver
// directly.
//
// Requests are safe to repeat, so that a job re-run after a crash may simply
// ask again: a request for the operation the server is already doing, or
// has already done (Deploy of an ACTIVE server, Destroy of an AVAILABLE
// one), returns nil and changes nothing. Rebuild and Rescue are the
// exceptions that repeat: they start over from ACTIVE and RESCUE, with the
// same end state. So that a caller never asks for them twice, every request
// carries an operation id (Server.OperationID), and GetState reports the id
// of the last request the server accepted (State.OperationID): a caller
// that crashed between a request and its record of it reads the state
// before asking again. A request the server's state does not allow (by the
// transition table) returns a fault.ErrFailedPrecondition. Any other error
// means the hardware could not be reached or refused for a reason a retry
// may fix.
//
// Server carries what the control plane last recorded of the server; a
// driver with a memory of its own (Ironic) ignores it, one without (the sim
// after a restart) starts from it.
type Driver interface {
	// Deploy installs d on an AVAILABLE server (or one whose deploy failed):
	// DEPLOYING, DEPLOY_WAIT, DEPLOY_DONE, then ACTIVE, or DEPLOY_FAIL.
	Deploy(ctx context.Context, s Server, d Deployment) error
	// Rebuild reinstalls d on an ACTIVE server (or one in DEPLOY_FAIL or
	// ERROR), wiping the old instance: REBUILD, then as Deploy.
	Rebuild(ctx context.Context, s Server, d Deployment) error
	// Destroy tears the instance down and cleans the disks back to factory
	// state: DELETING, DELETED, CLEANING, CLEAN_WAIT, then AVAILABLE (and
	// powered off), or ERROR or CLEAN_FAIL. Once it has accepted the
	// request, the server's console sessions are closed (Ironic: a PUT of
	// the console state with {"enabled": false}): nobody watches the
	// teardown, and the next customer inherits no session.
	Destroy(ctx context.Context, s Server) error
	// Rescue boots the rescue system with password as its root password:
	// RESCUING, RESCUE_WAIT, then RESCUE, or RESCUE_FAIL.
	Rescue(ctx context.Context, s Server, password string) error
	// Unrescue boots the installed system again: UNRESCUING, then ACTIVE, or
	// UNRESCUE_FAIL.
	Unrescue(ctx context.Context, s Server) error
	// SetPower switches the server ON or OFF, or RESETs it (a hard reboot
	// that ends ON). It is refused while an operation is in progress.
	SetPower(ctx context.Context, s Server, target catalog.PowerState) error
	// GetState reports where the server is now.
	GetState(ctx context.Context, s Server) (State, error)
	// OpenConsole enables the remote console of a server that holds an
	// instance (HoldsInstance) and opens a session on its BMC that takes
	// c's credentials until c.ExpiresAt, then returns the console's
	// connection info. Ironic does it with a PUT of
	// /v1/nodes/{IronicID}/states/console with {"enabled": true}, then a
	// GET of the same path for console_info. A server without a BMC
	// (BMCAddress empty) or in a state that holds no instance is a
	// fault.ErrFailedPrecondition. A repeated request for the same session
	// (c.SessionID, same credentials) returns the same console and changes
	// nothing.
	OpenConsole(ctx context.Context, s Server, c ConsoleRequest) (Console, error)
}

// Server names the machine a Driver acts on, with what the control plane
// last recorded of it (the servers table).
type Server struct {
	// ID is gpcore's id of the server.
	ID string
	// IronicID is the server's node id in Ironic; empty when it has none
	// (the sim needs none).
	IronicID string
	// ProvisionState and PowerState are the states last recorded.
	ProvisionState catalog.ProvisionState
	PowerState     catalog.PowerState
	// BMCAddress is the address of the server's platform management
	// controller (iLO, iDRAC, IPMI), the catalog's platform_management_ip;
	// empty when it has none.
	BMCAddress string
	// Requested is the request under way on the server, as recorded once a
	// driver accepted it: the event that started it (Deploy, Rebuild,
	// Delete, Rescue or Unrescue); RequestedAt is when that was recorded.
	// Both are zero while no accepted request is under way. Real hardware,
	// which every replica shares, has no use for them; the simulated
	// hardware, which lives in each process's memory, follows them to agree
	// with the other replicas' (see package sim).
	Requested   Event
	RequestedAt time.Time
	// OperationID identifies a request (Deploy, Rebuild, Destroy, Rescue,
	// Unrescue): the same for every repetition of one request, another for
	// the next one. The driver reports it in State.OperationID once the
	// server has accepted the request. Empty in other calls.
	OperationID string
}

// ConsoleRequest asks for a remote console session on a server's BMC, with
// the credentials the control plane generated for it.
type ConsoleRequest struct {
	// SessionID is the control plane's id of the session; a repeated
	// request names the same one.
	SessionID string
	// Username and Password are to log in to the console. Drivers never
	// log the password.
	Username string
	Password string
	// ExpiresAt is when the session stops taking them.
	ExpiresAt time.Time
}

// Console is an open remote console session: where a VNC client connects
// and how it logs in.
type Console struct {
	// Host is the address a VNC client connects to: the BMC, or the
	// console proxy in front of it.
	Host string
	// Username and Password log in: the request's, or those the BMC handed
	// out in their place.
	Username string
	Password string
	// ExpiresAt is when the session stops taking them: the request's, or
	// earlier when the BMC allows less.
	ExpiresAt time.Time
}

// Deployment is what Deploy and Rebuild install: an image, and the
// configuration the first boot applies (Ironic passes it as a config drive).
type Deployment struct {
	// Image is the operating system to write to the disk.
	Image Image
	// Hostname is the node's FQDN.
	Hostname string
	// SSHKeys are the public keys allowed to log in as the image's login
	// user (the node's login hint), in authorized_keys format.
	SSHKeys []string
	// RootPassword is the root password to set; empty when only keys log
	// in. Drivers never log it.
	RootPassword string
	// UserData is the customer's cloud-init user data, passed on unchanged.
	UserData []byte
}

// Image is an operating system image to deploy.
type Image struct {
	// ID is gpcore's id of the image.
	ID string
	// Source is where the provisioning backend downloads the image from (an
	// HTTP URL, Ironic's image_source); empty for the sim.
	Source string
	// Checksum is the image's checksum as "algorithm:hex", e.g.
	// "sha256:...", checked by the backend after the download.
	Checksum string
}

// State is a server's state as the hardware reports it.
type State struct {
	Provision catalog.ProvisionState
	Power     catalog.PowerState
	// LastError says why the last operation failed; empty after a success.
	LastError string
	// OperationID is the Server.OperationID of the last request the server
	// accepted; empty when the driver knows of none (a driver without a
	// memory of its own, such as the sim after a restart). A driver
	// reports an id only once its request has been accepted.
	OperationID string
}
