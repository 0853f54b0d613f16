-- When the phone directory is brought up to date: decided by the size of the
-- tables a freshness check would read, not by how many numbers they hold.
-- A check reads every row of user and of the address books, numbered or not
-- (about 6 us a page: 13 ms at 50,000 accounts), so a site of 50,000 accounts
-- and 500 numbers paid a full pass of user on every inbound push.
--   share: 0.5 for the spooler (it refreshes ahead, looking 4 times a
--   second), 2 for a push (only when the spooler has fallen behind: every
--   push finding it due at once would queue on the refresh's lock).
-- Where the two tables fit in 256 kB (a few hundred accounts: a pass costs
-- under 0.2 ms), due when any number changed: lookups are exact. Elsewhere by
-- age: after 100 times what the last refresh took, at least 1 s and at most
-- 5 s (refreshing takes at most 1% of the time until a refresh costs 50 ms);
-- a number changed in Moodle is then found within 5 s.
CREATE FUNCTION {schema}.directory_due(share double precision) RETURNS boolean
LANGUAGE sql STABLE AS $fn$
    SELECT CASE WHEN pg_relation_size('{prefix}user') + pg_relation_size('{prefix}block_moodletxt_ab_entry') <= 262144
                THEN fingerprint IS DISTINCT FROM {schema}.directory_fingerprint()
                ELSE now() - refreshed_at > share * least(greatest(cost * 100, interval '1 s'), interval '5 s') END
    FROM {schema}.phone_directory_state
$fn$;
