// Package project owns projects: the containers customers order nodes in,
// their members and pending invites, and each project's log. It keeps the
// tables of migration 00003_projects.sql, with the column projects.plan_code
// of 00011_project_plans_credit.sql, and reads (never writes) the identity
// domain's users table for who is who, and its oauth_clients table for whose
// service account is whose.
//
// # Access
//
// Every operation takes the calling user's id. A project is visible only to
// its confirmed members: anyone else, a pending invitee included, gets
// fault.NotFound, exactly as for a project that does not exist, so ids
// cannot be probed. Members who lack the OWNER role where it is needed get
// fault.PermissionDenied. Other domains ask IsMember before they show or
// change anything that belongs to a project.
//
// # Rules
//
//   - Names are trimmed and 3 to 64 characters long: long enough to be
//     told apart in a list, short enough for a panel's title bar and a CLI
//     table; the database checks the same bounds. The deprecated description
//     and environment are still stored and returned.
//   - Each user has exactly one default project once they belong to any:
//     the first project a user creates or joins becomes their default (a
//     partial unique index allows at most one), ChangeDefault moves the flag
//     in one transaction, and when a member is removed from their default
//     project their oldest remaining project takes the flag.
//   - Delete: the OWNER only, never a project that is any member's default
//     project (the owner's or another's: the reference's "a project marked
//     as default project can not be deleted"), and never while a
//     DeletionGuard reports something left (nodes, unpaid bills, a balance).
//   - Invites are project_members rows with confirmed false. Invite is for
//     the OWNER; the identifier is an e-mail address or a user id. People
//     get a pending invite and accept or reject it with Join; service
//     accounts join at once as confirmed MEMBERs, but only the owner of a
//     service account's OAuth client may add it (to anyone else, and once
//     the client is deleted, it is NotFound like an unknown user: a bot is
//     its owner's to place, and its existence is not told). The reference's
//     ProjectInvite id is the project's id: a user has at most one invite
//     per project, and JoinProject takes the project id.
//   - Leave: confirmed members, not their default project, not the last
//     owner. RemoveMember: the OWNER, not themselves, not an owner; removing
//     a pending invitee withdraws the invite.
//   - Plan: a project subscribes to a plan (Project.PlanCode) when it is
//     first linked to a billing profile, at Create or by Update: the
//     profile's default plan code then (BillingState.PlanCode). As the
//     reference says of ChangeDefaultPlanCode, a later change of that
//     default affects only projects created afterwards; linking another
//     profile keeps the plan too.
//   - Locks: MISSING_BILLING_PROFILE when no billing profile is linked, plus
//     whatever BillingState reports about payment methods and subscriptions.
//
// Every state change writes a project log entry (who and what) in the same
// transaction; Delete does not, since the log goes with the project.
//
// # Notifications
//
// Every state change also publishes, in the same transaction
// (notify.Hub.PublishTx), a notify.KindProject event for each project whose
// GetProject answer it changed, to the project's confirmed members as the
// change leaves them and to the users it concerns besides: the invitee of an
// invite; whoever lost the project (they left, were removed, rejected or
// lost their invite, or the project was deleted). A member list shows who
// has the project as default, so moving a default flag (ChangeDefault, or a
// new default after a removal or a deletion) changes the project it leaves
// and the one it goes to. UserAudience names who hears of a change to an
// account.
//
// # Concurrency
//
// The database has the last word: primary keys, foreign keys, checks and the
// one-default index hold whatever happens. On top of that, every change to an
// existing project first locks its row, so changes to one project queue; and
// every operation that may move a default flag then locks the rows of the
// users concerned, in id order, so one user's default changes queue too.
// Locking in that one order (project, then users) and with a user lock that
// does not conflict with foreign-key checks keeps PostgreSQL free of
// deadlocks; the tests race the operations to prove it. On SQLite, where
// every transaction holds the database's write lock, the locks are no-ops.
package project
