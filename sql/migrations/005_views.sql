-- Views for DBAs and reports.
-- The latest status of each sent SMS, with what the code means (the gateway's
-- status codes; StatusMessage text is "subject to change", the code is not).
CREATE OR REPLACE VIEW {prefix}txtpush_latest_status AS
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
    updatetime
FROM {prefix}block_moodletxt_status
ORDER BY ticketnumber, updatetime DESC, id DESC;
