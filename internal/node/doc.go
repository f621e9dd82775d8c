// Package node owns nodes: the bare-metal servers customers rent in their
// projects. It orders them, installs, powers, rescues, reinstalls and
// destroys them through jobs that drive a provision.Driver, keeps a server
// log of every step, opens remote consoles on their servers' BMCs, and
// tells the project's members of every change through the notify hub. It
// keeps the tables of migration 00007_nodes.sql (and the column
// 00010_node_operation_asked.sql adds) and the allocation columns of the
// catalog's servers and ip_addresses (see the migration); it reads the
// identity domain's users (node limits) and the projects table (currency),
// and never writes them.
//
// # Ordering
//
// Service.Create checks every precondition of an order before writing
// anything (membership, project locks, the user's node limit, datacenter,
// flavour stock, address pool, image, credentials, names), then writes
// everything in one transaction: it takes the project's row lock, then the
// user's (the node limit is checked again under it), takes free servers
// with store.ForUpdateSkipLocked (on PostgreSQL two orders racing for the
// last server get different rows, and the one left empty-handed is refused
// with ResourceExhausted; on SQLite transactions run one at a time),
// assigns one free address of each public subnet of the datacenter to each
// server's public interface, and writes the nodes, their one-time secrets,
// server logs, project log entries, install jobs and notifications. A
// unique index keeps one live node per FQDN and one per server whatever
// happens.
//
// # Names
//
// NormalizeFQDN is the one place names are checked: a fully qualified name
// of at least two RFC 1123 labels ("web1" alone is refused) of at most 63
// characters, at most 253 in all, a last label (the top-level domain) that
// is not all digits (RFC 1123 section 2.1: "1.2.3.4" is an address), a
// trailing dot accepted and dropped, upper case folded, so
// "Web1.Example.NET." and "web1.example.net" are the same node. A live
// node's name is unique across all projects.
//
// # Credentials and secrets
//
// An order (or a reinstall) names SSH keys of project members (keyring), a
// root password, both, or neither: then each node gets a random password.
// The image must accept each way asked for (a generated password needs an
// image that accepts passwords). A password is a one-time secret
// (node_secrets), kept in the database only until it has been handed to the
// node: the install job gives it to the provisioning driver (Ironic writes it
// to the config drive) and deletes it in the transaction that records the
// driver accepted the request, so that a crash before that repeats the
// request with the same password and a crash after finds nothing to repeat.
// It is never logged, never put in job arguments and never returned; the
// node shows only LoginHint.HasPassword. (When the metadata service arrives,
// it becomes the one reader of the secret instead, on the node's first
// boot.) Rescue passwords work the same way, except that
// ChangeNodeRescueMode returns the password to the caller once, as the
// reference asks. Secrets are not encrypted: their lifetime is a few
// seconds, and no key management exists yet to make encryption more than a
// gesture.
//
// # Operations and jobs
//
// A node takes one request at a time. A provisioning request (reinstall,
// rescue on/off, destroy) is accepted only while the node is at rest (no
// operation or power change under way) and when the transition table
// (provision.Transition) allows its event from the server's state; the
// accepting transaction moves the server to the event's state, records the
// operation on the node and enqueues the operation's job (one kind per
// operation, unique per node). The job follows the rules of package jobs:
// it makes the driver's request unless operation_requested_at says it was
// made, records that, then looks at the hardware and records each step the
// hardware took (provision.Walk), with a server log entry per step, until
// the hardware settles; then it ends the operation and completes itself in
// one transaction. Between looks it snoozes (WorkerConfig.PollInterval).
// The request is made once, even across a crash between the driver's
// acceptance and its record: the job records operation_asked_at before it
// asks, and its request carries the job's id as operation id; a job that
// resumes with operation_asked_at set and no record of the request reads
// the hardware's state first, and only records the request when the driver
// reports that id as accepted (a Rebuild or a Rescue asked twice would
// start over).
// Destroying ends the node's usage at once; when cleaning is done the
// addresses and the server go back to the pool and the node is deleted (a
// server that failed to clean stays out of the pool for an operator). A
// teardown that fails (ERROR) may leave the instance on the server, so the
// node keeps its server and addresses, unbilled, and takes nothing but
// DestroyNode again.
//
// An operation never stays in the state its request put the server in. When
// the driver refuses the request, or cannot be reached for as long as the
// job retries (jobs.DefaultMaxAttempts), the job gives the operation up: the
// server goes where the operation fails from the state recorded
// (provision.Failure: DEPLOY_FAIL, RESCUE_FAIL, UNRESCUE_FAIL, ERROR,
// CLEAN_FAIL) with the reason as its last error, a server log entry and a
// notification, and the operation ends as the hardware's own failure would.
// The node then takes what that state allows: a reinstall or a destroy
// after a failed (re)install, rescue or unrescue again or a destroy after a
// failed rescue, a destroy after a failed teardown. Should a job end without
// ending its operation (its last attempt could not record even the giving
// up, the database being out of reach), the periodic job PeriodicJobs
// schedules (node_operations_resume) queues a new one, which goes on from
// what the node records; the driver request keeps its operation id
// (derived from the node's operation_asked_at), so the driver is not asked
// twice.
//
// Power changes (PowerActionNode) are accepted only for a node at rest that
// is ACTIVE or in RESCUE, and not when they make no sense (ON when on, OFF
// when off, RESET when off). Driver requests are safe to repeat, so a crash
// between a request and its record repeats it; for RESET that can mean a
// second reset. A reset does not change the power, so a node shows power
// RESET while one is under way, and the power as the hardware reports it
// once its job has ended (List's power_state filter goes by the hardware's:
// a node being reset is on).
//
// # Remote consoles
//
// Service.Console opens a console session on the BMC of a node's server
// through the driver (provision.Driver.OpenConsole), with a random password
// and a 16-character user name made here, for Config.ConsoleTTL. Every check
// and the driver call come first; the session is recorded only once the BMC
// has it, in one transaction with the project log entry: its id, node, user,
// user name, the SHA-256 of the password and of the token, and its end
// (node_console_sessions). The token is a JWT of gpcore's issuer for the
// session (auth.Issuer.IssueConsoleToken). A failure after the driver call
// leaves a session on the BMC whose credentials nobody got, which ends on its
// own. The periodic job PeriodicJobs schedules deletes the sessions whose
// time is up, by the workers' clock.
//
// # Reading
//
// Get and List return live nodes with their server's state, public
// interfaces and addresses, and the catalog objects they use, priced in the
// project's currency. List pages hold at most NodesPageLimit nodes, ordered
// by FQDN; its search term matches FQDNs, addresses, tags and statuses, and
// its extended search takes the filters SearchOptions lists. Changed and
// ServerLogChanged read for notifications, once for all the subscribers of
// a change: they check no caller but say who may see the change (its
// project's members, read last); a deleted node comes back with Status
// DELETED, so subscribers learn it is gone. The node limit counts the live
// nodes a user ordered, in any project.
//
// # Billing
//
// A node is billed HOURLY or MONTHLY. Its metering is the billing domain's
// (internal/billing/usage), written in the transaction that makes each
// change: the order starts it, ChangeBillingPeriod records a change that
// applies when the current term ends (TargetBillingPeriod until then), and
// Destroy ends it at once, whatever the cleaning takes (a destroyed node's
// billing period cannot change any more); Reinstall moves its licence to
// that of the image it installs, from the moment it is accepted. Metering is the one source of
// truth of how a node is billed: reads return it as it is now
// (usage.CurrentManyTx), so PaidUntil moves on with every started hour or
// paid month, and the billing_period filter of List asks it too
// (usage.NodesBilledBy). The row's billing_period, target_billing_period and
// paid_until_at record the billing as of its last change, and as of the
// moment a pending change took effect: the job node_billing_changes
// (PeriodicJobs, every BillingChangeInterval) finds the rows whose change
// is due, records the new billing, writes it to the project's log and tells
// the project's members of the node.
package node
