-- +goose Up
-- The card the last payment attempt of a bill charged (credit_cards.id; no
-- foreign key: a card may be removed later), NULL when the attempt charged
-- none (the profile had no usable card, or the bill is paid by transfer).
-- A FAILED bill is charged again once its profile's default card is another
-- one. Until now "another one" was a default card changed after the bill
-- failed, which missed a default changed while an attempt with the old card
-- was under way and failed after it. The bills that failed before keep that
-- rule: their card is the default card of then.
ALTER TABLE bills ADD COLUMN charged_card_id TEXT;

UPDATE bills SET charged_card_id = (
    SELECT cc.id FROM credit_cards AS cc
    WHERE cc.billing_profile_id = bills.billing_profile_id AND cc.is_default AND cc.updated_at <= bills.status_changed_at
)
WHERE status = 'FAILED';

-- +goose Down
ALTER TABLE bills DROP COLUMN charged_card_id;
