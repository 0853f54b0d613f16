-- The inbox catch-up reads Moodle's inbox rows above a floor and must find
-- those that are not txtpush's own (the plugin's pull): by this index, one
-- probe per row, instead of trying to insert every row read into the ledger.
CREATE INDEX inbound_ledger_inboxid_ix ON {schema}.inbound_ledger (inboxid);
