-- +goose Up
-- Project plans and billing credit. projects.plan_code is internal/project's
-- column (set from what internal/billing answers); bill_lines.plan_code and
-- billing_credits are internal/billing's.

-- A project's plan: the plan code (a Lago identifier, see PaymentService
-- ListPlanCodes) it subscribed to when it was first linked to a billing
-- profile, that profile's default plan code then; NULL while it has never
-- had a billing profile. A later change of the profile's default plan code,
-- or a link to another profile, does not change it. Projects linked before
-- plans were recorded get their profile's default plan code now.
ALTER TABLE projects ADD COLUMN plan_code TEXT CHECK (plan_code <> '');
UPDATE projects
SET plan_code = (SELECT bp.default_plan_code FROM billing_profiles AS bp WHERE bp.id = projects.billing_profile_id)
WHERE billing_profile_id IS NOT NULL;

-- The plan of a bill line's project when the bill was issued, like its
-- project_name; '' on the lines of bills issued before plans were recorded.
ALTER TABLE bill_lines ADD COLUMN plan_code TEXT NOT NULL DEFAULT '';

-- Credit: money the operator owes a billing profile, in one currency, taken
-- off its next bills. An append-only ledger: a grant (gpcore admin credit
-- grant) adds an entry of a positive amount with the operator's reason; a
-- bill that uses credit adds one of the negative amount it used, naming the
-- bill (at most one per bill, and bills.credit_amount is that amount). A
-- profile's balance in a currency is the sum of its entries there, never
-- negative: entries are written with the profile's row locked.
-- billing_profile_id has no FOREIGN KEY, like bills': the ledger outlives
-- the profile (whose credit left is then unused).
CREATE TABLE billing_credits (
    id                 TEXT PRIMARY KEY,
    billing_profile_id TEXT NOT NULL,
    currency           TEXT NOT NULL CHECK (currency IN ('EUR', 'USD')),
    amount             BIGINT NOT NULL CHECK (amount <> 0),
    bill_id            TEXT UNIQUE REFERENCES bills (id),
    reason             TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    CHECK ((bill_id IS NULL) = (amount > 0)),
    CHECK (bill_id IS NOT NULL OR reason <> '')
);

CREATE INDEX billing_credits_billing_profile_id ON billing_credits (billing_profile_id, currency, created_at);

-- +goose Down
DROP TABLE billing_credits;
ALTER TABLE bill_lines DROP COLUMN plan_code;
ALTER TABLE projects DROP COLUMN plan_code;
