-- Values txtpush stored differently from how they arrived, for the operator:
-- texts cut to their column, sender numbers that are not plausible phone
-- numbers (stored as received). One row per (ticket, kind, flag).
CREATE TABLE IF NOT EXISTS {prefix}txtpush_flags (
    id BIGSERIAL PRIMARY KEY,
    ticket BIGINT NOT NULL,
    kind VARCHAR(10) NOT NULL,
    flag VARCHAR(40) NOT NULL,
    original TEXT NOT NULL,
    timestored BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}txtpush_flags_ticket_kind_flag_uix
    ON {prefix}txtpush_flags (ticket, kind, flag);
