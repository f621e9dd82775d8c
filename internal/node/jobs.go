package node

import (
	"github.com/riverqueue/river"

	"github.com/gpcore/gpcore/internal/jobs"
)

// The job kinds of the node domain. Each names only its node: what to do
// is recorded on the node (nodes.operation, power_target) in the
// transaction that accepts the request, and the worker reads it from there.
// Every kind is unique per node (jobs.OnePerTarget).

// installArgs installs a freshly ordered node (DEPLOY).
type installArgs struct {
	NodeID string `json:"node_id" river:"unique"`
}

// reinstallArgs reinstalls a node (REBUILD).
type reinstallArgs struct {
	NodeID string `json:"node_id" river:"unique"`
}

// destroyArgs tears a node down, cleans its server and releases it
// (DESTROY).
type destroyArgs struct {
	NodeID string `json:"node_id" river:"unique"`
}

// rescueArgs boots a node's rescue system (RESCUE).
type rescueArgs struct {
	NodeID string `json:"node_id" river:"unique"`
}

// unrescueArgs boots a node's installed system again (UNRESCUE).
type unrescueArgs struct {
	NodeID string `json:"node_id" river:"unique"`
}

// powerArgs switches a node's power to its power_target.
type powerArgs struct {
	NodeID string `json:"node_id" river:"unique"`
}

// Kind implements river.JobArgs. The names are stored with the jobs and
// never change.
func (installArgs) Kind() string   { return "node_install" }
func (reinstallArgs) Kind() string { return "node_reinstall" }
func (destroyArgs) Kind() string   { return "node_destroy" }
func (rescueArgs) Kind() string    { return "node_rescue" }
func (unrescueArgs) Kind() string  { return "node_unrescue" }
func (powerArgs) Kind() string     { return "node_power" }

// InsertOpts makes every kind unique per node.
func (installArgs) InsertOpts() river.InsertOpts   { return onePerNode() }
func (reinstallArgs) InsertOpts() river.InsertOpts { return onePerNode() }
func (destroyArgs) InsertOpts() river.InsertOpts   { return onePerNode() }
func (rescueArgs) InsertOpts() river.InsertOpts    { return onePerNode() }
func (unrescueArgs) InsertOpts() river.InsertOpts  { return onePerNode() }
func (powerArgs) InsertOpts() river.InsertOpts     { return onePerNode() }

// nodeID implements nodeJob.
func (a installArgs) nodeID() string   { return a.NodeID }
func (a reinstallArgs) nodeID() string { return a.NodeID }
func (a destroyArgs) nodeID() string   { return a.NodeID }
func (a rescueArgs) nodeID() string    { return a.NodeID }
func (a unrescueArgs) nodeID() string  { return a.NodeID }
func (a powerArgs) nodeID() string     { return a.NodeID }

// onePerNode is jobs.OnePerTarget for a kind whose target is its node.
func onePerNode() river.InsertOpts { return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()} }

// nodeJob is the args of a node job kind.
type nodeJob interface {
	river.JobArgs
	nodeID() string
}

// jobFor returns the args of the job that carries out op on a node.
func jobFor(op operation, nodeID string) nodeJob {
	switch op {
	case opDeploy:
		return installArgs{NodeID: nodeID}
	case opRebuild:
		return reinstallArgs{NodeID: nodeID}
	case opDestroy:
		return destroyArgs{NodeID: nodeID}
	case opRescue:
		return rescueArgs{NodeID: nodeID}
	case opUnrescue:
		return unrescueArgs{NodeID: nodeID}
	}
	panic("node: no job for operation " + string(op))
}
