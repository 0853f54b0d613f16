-- Inbound SMS delivered per gateway account per day (UTC, by when the
-- gateway pushed them), each message counted once however many inboxes it
-- reached. From txtpush's ledger; unrouted messages are in unrouted.sql.
-- Schema txtpush assumed: edit to suit.
SELECT date_trunc('day', received_at AT TIME ZONE 'UTC') AS day, account, count(DISTINCT ticket) AS messages
FROM txtpush.inbound_ledger
WHERE origin = 'push'
GROUP BY 1, 2
ORDER BY 1, 2;
