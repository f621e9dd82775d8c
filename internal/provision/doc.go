// Package provision is the provisioning of bare-metal servers: the state
// machine every server follows, and the Driver interface to the hardware
// (provision/sim simulates it; an OpenStack Ironic driver can implement it).
//
// # The state machine
//
// A server's provisioning state (catalog.ProvisionState, the reference's
// ServerProvisioningState, which is OpenStack Ironic's) changes only along
// the edges of one transition table: [Transition] says where an event leads,
// and refuses the rest. [Edges] lists the table; docs/states.md draws it
// (`go generate ./internal/provision` writes it, and a test fails when it
// is stale).
//
// Events are of two sorts. Requested events (deploy, rebuild, delete,
// rescue, unrescue, and the operator's manage, provide, inspect, adopt,
// abort) are what a customer or an operator asks for; the domain applies
// one in the transaction that accepts the request, so the node shows at
// once that something is under way, and enqueues the job that carries it
// out. Progress events (deploy-wait, deploy-done, activate, clean-done,
// fail, ...) report the hardware's progress; the job applies them as it
// polls the driver. A state no progress event leaves is [Settled]: the
// operation has succeeded or failed and nothing moves until the next
// request. [Target] says where an operation in progress ends if it
// succeeds, [Failure] where it ends if it fails or is given up.
//
// # Driving the hardware from a job
//
// A provisioning job (see package jobs for the rules every worker follows)
// makes the driver do what the recorded state says is under way, and
// records what the driver reports:
//
//  1. In a transaction, load the server; if its state is settled the
//     operation is over: complete the job.
//  2. If the request has not been recorded as made yet (the domain records
//     that it was, in the same row), record that it is about to be made,
//     make it (Deploy, Destroy, ...) with its OperationID, and record that
//     it was. When an earlier attempt was about to make it, read the state
//     first: a State with the request's OperationID says a crash came
//     between the request and its record, and the request is only
//     recorded. So a request is never made twice, not even a Rebuild or a
//     Rescue, which start over when repeated.
//  3. GetState; [Walk] from the recorded state to the reported one gives
//     the steps the hardware took meanwhile. Apply them in one transaction,
//     with a server log for each, and last_error on a failure.
//  4. Not settled yet: return river.JobSnooze(poll interval). Settled:
//     complete the job in that transaction.
//
// A request the driver refuses, or a driver that cannot be reached on the
// job's last attempt, ends the operation where [Failure] says, with the
// reason as last_error, in the transaction that completes the job: a
// server never stays in the middle of an operation nobody carries on.
package provision
