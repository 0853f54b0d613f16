-- Every status the gateway reported for one sent SMS, when it did and in
-- which request (nginx's $request_id, also in txtpushd's log line), next to
-- the Moodle row. origin 'history' rows were in Moodle's table before txtpush.
-- Schema txtpush and prefix mdl_ assumed: edit to suit.
SELECT l.ticketnumber, l.status, l.received_at, l.request_id, l.origin, s.id AS moodle_row, s.statusmessage
FROM txtpush.status_ledger l
LEFT JOIN mdl_block_moodletxt_status s ON s.id = l.statusid
WHERE l.ticketnumber = 123
ORDER BY l.received_at, l.status;
