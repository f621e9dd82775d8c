-- +goose Up
-- Billing: customers' billing profiles, their credit cards and the card
-- setups waiting for the payment provider's confirmation. Owned by
-- internal/billing; it reads (never writes) users, user_tags, countries and
-- projects.

-- A billing profile is who pays: a person or a company, with the address the
-- bills go to. It belongs to the user who created it. vat_id is normalised
-- (upper case, no spaces or punctuation, with its country prefix) and empty
-- for consumers; a VAT id needs a company name. default_plan_code is the
-- plan projects billed to this profile subscribe to. payment_customer_id is
-- the customer at the payment provider payment_provider ('test', 'stripe':
-- a Stripe customer id), made at the first AddCreditCard; both are NULL
-- until then. The tax rate is not stored: it follows from the country, the
-- VAT id and the operator's tax rule whenever it is needed.
CREATE TABLE billing_profiles (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users (id),
    name                 TEXT NOT NULL CHECK (name <> ''),
    company_name         TEXT NOT NULL,
    vat_id               TEXT NOT NULL,
    country_code         TEXT NOT NULL REFERENCES countries (code),
    state                TEXT NOT NULL,
    street               TEXT NOT NULL,
    city                 TEXT NOT NULL,
    postcode             TEXT NOT NULL,
    billing_email        TEXT NOT NULL,
    default_plan_code    TEXT NOT NULL CHECK (default_plan_code <> ''),
    payment_provider     TEXT CHECK (payment_provider <> ''),
    payment_customer_id  TEXT CHECK (payment_customer_id <> ''),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CHECK (vat_id = '' OR company_name <> ''),
    CHECK ((payment_provider IS NULL) = (payment_customer_id IS NULL)),
    UNIQUE (payment_provider, payment_customer_id)
);

CREATE INDEX billing_profiles_user_id_created_at ON billing_profiles (user_id, created_at);

-- Credit cards as the payment provider reports them. provider names the
-- provider that holds the card ('test', 'stripe') and provider_ref its id
-- there (a Stripe PaymentMethod id). expires_at is the first instant after
-- the card's expiry month, in UTC. A profile has at most one default card.
CREATE TABLE credit_cards (
    id                 TEXT PRIMARY KEY,
    billing_profile_id TEXT NOT NULL REFERENCES billing_profiles (id) ON DELETE CASCADE,
    provider           TEXT NOT NULL CHECK (provider <> ''),
    provider_ref       TEXT NOT NULL CHECK (provider_ref <> ''),
    brand              TEXT NOT NULL CHECK (brand IN ('UNSPECIFIED', 'VISA', 'MASTERCARD', 'AMEX', 'DISCOVER', 'DINERS_CLUB', 'JCB')),
    last4              TEXT NOT NULL CHECK (length(last4) = 4),
    supports_3d_secure BOOLEAN NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    is_default         BOOLEAN NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, provider_ref)
);

CREATE INDEX credit_cards_billing_profile_id ON credit_cards (billing_profile_id, created_at);
CREATE UNIQUE INDEX credit_cards_one_default ON credit_cards (billing_profile_id) WHERE is_default;

-- Card setups begun by AddCreditCard (a Stripe SetupIntent), by the
-- provider's id for them. The provider's confirmation names the setup; the
-- row says which profile the new card belongs to and goes once the card is
-- stored.
CREATE TABLE card_setups (
    id                 TEXT PRIMARY KEY,
    billing_profile_id TEXT NOT NULL REFERENCES billing_profiles (id) ON DELETE CASCADE,
    provider           TEXT NOT NULL CHECK (provider <> ''),
    created_at         TIMESTAMPTZ NOT NULL
);

CREATE INDEX card_setups_billing_profile_id ON card_setups (billing_profile_id);

-- +goose Down
DROP TABLE card_setups;
DROP TABLE credit_cards;
DROP TABLE billing_profiles;
