-- The newest status of each sent SMS, with what its code means (the
-- gateway's codes; StatusMessage text is "subject to change", the code is
-- not) and whether it is final. Runs on Moodle's table alone, so it also sees
-- the statuses the plugin polled itself. Prefix mdl_ assumed: edit to suit.
SELECT DISTINCT ON (ticketnumber)
    ticketnumber,
    status,
    CASE status
        WHEN -1 THEN 'failed: insufficient credits'
        WHEN 0 THEN 'queued at the gateway'
        WHEN 1 THEN 'delivered to the aggregator'
        WHEN 2 THEN 'failed: fatal delivery error'
        WHEN 3 THEN 'received by the network'
        WHEN 4 THEN 'failed for now: network retrying'
        WHEN 5 THEN 'delivered to the handset'
        WHEN 6 THEN 'failed: unknown fatal error'
    END AS meaning,
    status IN (-1, 2, 5, 6) AS final,
    statusmessage,
    to_timestamp(updatetime) AS updated
FROM mdl_block_moodletxt_status
ORDER BY ticketnumber, updatetime DESC, id DESC;
