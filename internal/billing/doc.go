// Package billing owns who pays, how, and for what: customers' billing
// profiles, their credit cards (held by a payment provider), the plan codes
// of profiles, the billing state projects are locked by, the metering of
// nodes and the monthly bills. It keeps the tables of migrations
// 00005_billing.sql, 00008_metering_bills.sql (node usage through
// internal/billing/usage) and 00011_project_plans_credit.sql (but for
// projects.plan_code), and reads (never writes) users, user_tags,
// countries, projects, project_members and nodes.
//
// # Billing profiles
//
// A profile belongs to the user who creates it; anyone else gets NotFound
// for it, exactly as for one that does not exist. Its country must be one of
// the catalog's countries (ListCountries). As the reference's user tag
// NO_COMPANY ("does not require to have a valid company and VAT number")
// implies, a profile is a company's: it needs a company name and, in a
// country whose VAT id syntax gpcore checks (the EU member states per the
// VIES table, GB, CH, NO; see NormalizeVATID), a VAT id of that syntax;
// an owner with NO_COMPANY may leave both out. The VAT id is checked for
// syntax only: there is no network check. A profile cannot be deleted while
// a project uses it.
//
// # Tax
//
// A profile's tax rate follows from its country, its VAT id and the
// operator's TaxRule (Config.TaxRule); the embedded default, VATRule,
// charges the country's catalog rate, except 0 (reverse charge) for a
// business with a checked VAT id outside the seller's country (DE unless
// configured). See VATRule for what it assumes.
//
// # Credit cards
//
// Cards live at a Provider; gpcore stores what the provider reports (brand,
// last four digits, expiry). AddCreditCard (BeginCardSetup) returns a
// client secret; the card appears when the provider confirms the setup
// (CompleteCardSetup): Stripe by a signed webhook (internal/billing/stripepay),
// the built-in TestProvider, the default, through ConfirmTestCard with the
// test card tokens it documents. A profile's first card is its default;
// ChangeDefaultCard moves the flag, and so does UseCard when a project's
// UpdateProject names the card its bills are charged to (bills are the
// profile's, so that is the profile's default card). RemoveCard refuses
// the last card of a profile a project uses, and when the default card
// goes, the newest remaining card becomes the default.
//
// # Plan codes
//
// Every profile has a default plan code, the plan of the projects that get
// it: a new profile gets its owner's users.default_plan_code, or
// Config.DefaultPlanCode ("gpcore") when the owner has none. Staff list the
// codes (always "free" and "gpcore", then the PlanCatalog's: BuiltinPlans,
// or Lago through internal/billing/lago) and change a profile's code to one
// of them. A project takes the code of its first profile when it is linked
// to it (PlanCode, for the project domain) and keeps it; bill lines carry
// their project's plan, and the invoice prints it. Every plan is billed at
// the catalog's prices: plans' own prices in Lago are not read.
//
// # Metering
//
// The node domain records every node's life in the transactions that order,
// re-bill and destroy it (internal/billing/usage); internal/billing/metering
// turns it into what is due: per started hour, per month in advance, per
// licence month, in billing periods that are calendar months in the payer's
// time zone (the owner of the project's billing profile). ProjectUsage
// reports the current period of a project so far.
//
// # Bills
//
// Sweep, run by the periodic job billing_sweep (AddWorkers, PeriodicJobs)
// every SweepInterval (unless told otherwise) on whichever replica leads
// River, closes the billing
// periods that have ended: per billing profile and currency, one bill per
// calendar month with usage, holding every line due in it that no bill
// holds yet (see closeProfile), numbered from one gapless series
// (bill_counters, incremented in the bill's own transaction). A bill's
// amounts are integer minor units: net is the sum of its lines, tax is net
// times the profile's tax rate rounded half away from zero once per bill
// (money.ApplyRate, gpcore's only rounding of money), gross = net + tax, and
// total = gross - credit. A bill is immutable once issued: the buyer and
// seller it names are copies, and only its payment columns are ever updated.
//
// The sweep then charges the bill (ChargePending) to the profile's default
// card; its status follows the payment provider: PENDING until it answers
// (or, for owners with the tag NO_CREDIT_CARD, until paid by transfer),
// SUCCEEDED, or FAILED (declined, no card). A failed bill is charged again
// once the profile has another default card: at once, by the job
// billing_retry_failed_bills that the change enqueues in its transaction
// (UseQueue), and by the sweep should that job not get to it; until then
// its projects are locked (SUBSCRIPTION_NOT_ACTIVE). BillPDF renders the invoice
// (internal/billing/invoice).
//
// # Credit
//
// Credit is money the operator owes a billing profile, in one currency, in
// an append-only ledger (billing_credits): GrantCredit adds to it (the
// operator's gpcore admin credit grant; the API has no call for it), and
// each bill in that currency takes as much of what is left as its gross
// amount, recorded in the ledger in the bill's own transaction. A bill the
// credit pays whole is SUCCEEDED at once and never charged. Credit returns
// a profile's statement. The credit left on a deleted profile is not used.
//
// # Project locks and deletion
//
// Service implements project.BillingState: CheckProfile lets a user link
// only their own profiles, and Locks reports a project's payment method and
// subscription (see Locks for what a subscription is in gpcore).
// DeletionGuard keeps a project with unpaid bills or unbilled usage.
//
// # Concurrency
//
// Every change to a profile or its cards locks the profile's row first, so
// they queue per profile, and the one-default-card index holds whatever
// happens. Linking a project (CheckProfile) share-locks the profile, so a
// deletion waits for the link and then finds the project, or the link waits
// for the deletion and then finds no profile. Provider calls happen inside
// the changing transaction after every check: a provider refusal changes
// nothing here, and a change the provider made before a failed commit comes
// back through its webhook (a detached card) or is repeated by the caller.
package billing
