-- The spooler publishes its whole inbox cursor, not only its floor: the
-- highest id it read and the ids it has not seen yet (lib/inbox_catch_up.hpp).
-- A process that starts (a new worker, a reload) takes it as its own, so its
-- first catch-up reads what was written since the spooler's last one, not
-- every row above the floor: while a transaction elsewhere holds an inbox id
-- open for an hour, the floor stays below it and that would be an hour of rows.
ALTER TABLE {schema}.inbox_watch
    ADD COLUMN read_top bigint NOT NULL DEFAULT 0,
    ADD COLUMN gap_firsts bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN gap_lasts bigint[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN {schema}.inbox_watch.read_top IS
    'txtpush: the highest inbox id the spooler read; every id in (watermark, read_top] outside the gaps is in inbound_ledger';
COMMENT ON COLUMN {schema}.inbox_watch.gap_firsts IS
    'txtpush: first ids of the ranges in (watermark, read_top] the spooler has not seen as rows';
COMMENT ON COLUMN {schema}.inbox_watch.gap_lasts IS
    'txtpush: last ids of those ranges, in the same order';
