-- Sender lookups by phone number without scanning every user: an index on
-- the last 8 digits of each stored number (a key that needs no settings, so
-- it is immutable and indexable). Candidates found through it are then
-- compared exactly in their canonical form ({prefix}txtpush_phone).
-- The indexes are txtpush's additions to Moodle's tables, harmless to Moodle.
CREATE OR REPLACE FUNCTION {prefix}txtpush_phone_key(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT right(regexp_replace(raw, '[^0-9]', '', 'g'), 8)
$fn$;
CREATE INDEX IF NOT EXISTS {prefix}user_txtpush_phone1_ix ON {prefix}user ({prefix}txtpush_phone_key(phone1));
CREATE INDEX IF NOT EXISTS {prefix}user_txtpush_phone2_ix ON {prefix}user ({prefix}txtpush_phone_key(phone2));
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_entry_txtpush_phone_ix
    ON {prefix}block_moodletxt_ab_entry ({prefix}txtpush_phone_key(phoneno));
