-- Inbound SMS waiting for an operator: the account they named is unknown,
-- has inbound disabled, or has no default user (fix the account, then run
-- `txtpushd reroute`), or the sender is not a phone number MoodleTxt can show
-- (reason sender_not_a_number: kept here for good, reroute leaves it).
-- Schema txtpush assumed: edit to suit.
SELECT ticket, destinationaccount, reason, source, to_timestamp(timereceived) AS sent, request_id, messagetext
FROM txtpush.unrouted
WHERE routed = 0
ORDER BY id;
