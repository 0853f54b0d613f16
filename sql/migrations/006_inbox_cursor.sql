-- The inbox catch-up keeps a cursor per process (lib/inbox_catch_up.hpp): the
-- ids it has not seen yet are remembered one by one, so no reader waits for
-- the oldest transaction in the database to end before its floor rises (a
-- Moodle backup holding one for minutes made every push reread every inbox
-- row written since). The shared watermark is the spooler's floor; what
-- migration 001 kept beside it to settle it is gone.
ALTER TABLE {schema}.inbox_watch DROP COLUMN pending, DROP COLUMN pending_xmax;
COMMENT ON COLUMN {schema}.inbox_watch.watermark IS
    'txtpush: every inbox row with id <= watermark is in inbound_ledger (raised by the spooler)';
