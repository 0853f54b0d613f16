-- txtpush's own objects, all in its own PostgreSQL schema ({schema}, from
-- [database] schema). Nothing here is created under Moodle's prefix, and
-- nothing depends on a Moodle table (no views, no foreign keys, no
-- BEGIN ATOMIC bodies), so Moodle can alter or drop its tables at will.
-- {prefix} (Moodle's table prefix) appears only in statements that read
-- Moodle's tables once, here, or in plpgsql bodies, which PostgreSQL does not
-- track as dependencies.

-- The ledger: every status update and every inbox delivery the gateway told
-- txtpush of, keyed the way replays are recognised. A push inserts its keys
-- here first, in key order; only keys that are new here, and not already in
-- Moodle's table, become Moodle rows. Concurrent pushes of one key meet on
-- the primary key: the second waits for the first and then adds nothing.
CREATE TABLE {schema}.status_ledger (
    ticketnumber BIGINT NOT NULL,
    status SMALLINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,        -- when the gateway told us (history: the row's updatetime)
    request_id TEXT NOT NULL DEFAULT '',     -- nginx's $request_id of that push; '' for history
    origin VARCHAR(10) NOT NULL,             -- 'push', or 'history' (found in Moodle's table by migrate)
    statusid BIGINT,                         -- the block_moodletxt_status row txtpush wrote; NULL if it was there
    PRIMARY KEY (ticketnumber, status)
);
COMMENT ON TABLE {schema}.status_ledger IS 'txtpush: every (ticket, status) the gateway reported, when and in which request';

CREATE TABLE {schema}.inbound_ledger (
    ticket BIGINT NOT NULL,
    userid BIGINT NOT NULL,                  -- the receiving user (one inbox row each)
    account VARCHAR(40),                     -- the gateway account it arrived on, as Moodle names it; NULL for history
    received_at TIMESTAMPTZ NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    origin VARCHAR(10) NOT NULL,
    inboxid BIGINT,                          -- the block_moodletxt_inbox row txtpush wrote; NULL if it was there
    PRIMARY KEY (ticket, userid)
);
COMMENT ON TABLE {schema}.inbound_ledger IS 'txtpush: every inbound SMS delivered to an inbox, when and in which request';

-- History: what Moodle's tables hold already (the plugin's own rows, the old
-- push.php's duplicates) is known, so a replay of last year's push adds nothing.
-- A time that is not Unix seconds (to_timestamp would fail) reads as now.
INSERT INTO {schema}.status_ledger (ticketnumber, status, received_at, origin, statusid)
SELECT ticketnumber, status,
       CASE WHEN min(updatetime) BETWEEN 0 AND 32503680000 THEN to_timestamp(min(updatetime)) ELSE now() END,
       'history', min(id)
FROM {prefix}block_moodletxt_status GROUP BY ticketnumber, status;
INSERT INTO {schema}.inbound_ledger (ticket, userid, received_at, origin, inboxid)
SELECT ticket, userid,
       CASE WHEN min(timereceived) BETWEEN 0 AND 32503680000 THEN to_timestamp(min(timereceived)) ELSE now() END,
       'history', min(id)
FROM {prefix}block_moodletxt_inbox GROUP BY ticket, userid;

-- Rows of Moodle's inbox with id <= watermark are all known to the ledger:
-- those txtpush wrote, and those the plugin wrote (its inbound pull), added
-- with origin 'moodle' by a catch-up (the spooler's, every few seconds, and
-- each worker's before it writes inbox rows). Moodle's inbox has no index on
-- ticket, so rows above the watermark are the only ones a push looks at.
-- pending is the highest id the last catch-up saw, pending_xmax the end of
-- its snapshot: pending becomes the watermark once every transaction that
-- was running then has ended (snapshot xmin past pending_xmax), so a row
-- still committing when it was read is read again.
CREATE TABLE {schema}.inbox_watch (
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    watermark BIGINT NOT NULL,
    pending BIGINT NOT NULL,
    pending_xmax xid8 NOT NULL
);
-- 10,000 ids under the history just loaded: rows still committing now are read
-- by the first catch-up.
INSERT INTO {schema}.inbox_watch (watermark, pending, pending_xmax)
SELECT greatest(coalesce(max(inboxid), 0) - 10000, 0), coalesce(max(inboxid), 0),
       pg_snapshot_xmax(pg_current_snapshot())
FROM {schema}.inbound_ledger;

-- Inbound SMS that had nowhere to go (unknown or disabled account, missing
-- default user), kept for an operator to re-route (`txtpushd reroute`).
CREATE TABLE {schema}.unrouted (
    id BIGSERIAL PRIMARY KEY,
    ticket BIGINT NOT NULL UNIQUE,
    messagetext TEXT NOT NULL,
    source VARCHAR(40) NOT NULL,
    destination VARCHAR(255) NOT NULL,
    destinationaccount VARCHAR(255) NOT NULL,
    timereceived BIGINT NOT NULL,
    reason VARCHAR(100) NOT NULL,
    timestored BIGINT NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    routed SMALLINT NOT NULL DEFAULT 0
);

-- Values stored otherwise than received: texts cut to their column, sender
-- numbers that are not plausible phone numbers. One row per (ticket, kind, flag).
CREATE TABLE {schema}.flags (
    id BIGSERIAL PRIMARY KEY,
    ticket BIGINT NOT NULL,
    kind VARCHAR(10) NOT NULL,
    flag VARCHAR(40) NOT NULL,
    original TEXT NOT NULL,
    timestored BIGINT NOT NULL,
    UNIQUE (ticket, kind, flag)
);

-- The phone-number rules of lib/phone.cpp (canonical_phone), for numbers
-- stored in Moodle's tables: keep + and digits; 00 -> +; national prefix ->
-- international prefix; other digits -> + and digits. Keep the two in step.
CREATE FUNCTION {schema}.phone(raw text, intl text, natl text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE
        WHEN d = '' THEN ''
        WHEN left(t, 1) = '+' THEN '+' || d
        WHEN left(d, 2) = '00' THEN '+' || substr(d, 3)
        WHEN natl <> '' AND left(d, length(natl)) = natl
            THEN '+' || regexp_replace(intl, '[^0-9]', '', 'g') || substr(d, length(natl) + 1)
        ELSE '+' || d
    END
    FROM (SELECT btrim(raw, E' \t\r\n') AS t, regexp_replace(raw, '[^0-9]', '', 'g') AS d) AS s
$fn$;

-- The lookup key of a number: its last 8 digits (lib/phone.cpp phone_key).
CREATE FUNCTION {schema}.phone_key(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT right(regexp_replace(raw, '[^0-9]', '', 'g'), 8)
$fn$;

-- The phone directory: the lookup key of every user's phone1/phone2 and every
-- address-book contact's number, so that finding a sender never scans
-- Moodle's user table and needs no index on it. It only narrows the search:
-- candidates are then read from Moodle's live rows and compared exactly, so a
-- stale entry can hide a number added since the last refresh, never give a
-- wrong name. See refresh_phone_directory, and the settings statement in
-- lib/push_store.cpp, for how fresh it is kept.
CREATE TABLE {schema}.phone_directory (
    kind VARCHAR(7) NOT NULL,                -- 'phone1', 'phone2' (user columns) or 'contact'
    id BIGINT NOT NULL,                      -- mdl_user.id or block_moodletxt_ab_entry.id
    raw VARCHAR(20) NOT NULL,                -- the number as stored in Moodle
    key TEXT NOT NULL,                       -- phone_key(raw)
    PRIMARY KEY (kind, id, raw)
);
CREATE INDEX phone_directory_key_ix ON {schema}.phone_directory (key, kind);

CREATE TABLE {schema}.phone_directory_state (
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    refreshed_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    cost INTERVAL NOT NULL DEFAULT '0',      -- how long the last refresh took
    entries INTEGER NOT NULL DEFAULT 0,      -- numbers in the directory after it
    fingerprint NUMERIC                      -- directory_fingerprint() when it was read
);
INSERT INTO {schema}.phone_directory_state DEFAULT VALUES;

-- A checksum of every number the directory is built from (the sum of the
-- bucket checksums below): while the directory is small, a push compares it
-- (one cheap pass, no writes) and refreshes only when a number changed.
CREATE FUNCTION {schema}.directory_fingerprint() RETURNS numeric
LANGUAGE sql STABLE SET enable_seqscan = on AS $fn$
    SELECT coalesce((SELECT sum(hashtextextended(phone1 || '/' || phone2, id)) FROM {prefix}user
                     WHERE deleted = 0 AND (phone1 <> '' OR phone2 <> '')), 0)
         + coalesce((SELECT sum(hashtextextended(phoneno, id)) FROM {prefix}block_moodletxt_ab_entry
                     WHERE phoneno <> ''), 0)
$fn$;

-- Checksums of the numbers per kind ('user', 'contact') and bucket of 1024
-- ids, as the directory was last built from them: a refresh rebuilds only
-- the buckets whose checksum changed.
CREATE TABLE {schema}.phone_directory_buckets (
    kind VARCHAR(7) NOT NULL,
    bucket BIGINT NOT NULL,                  -- id / 1024
    checksum NUMERIC NOT NULL,
    PRIMARY KEY (kind, bucket)
);

CREATE FUNCTION {schema}.directory_buckets() RETURNS TABLE (kind text, bucket bigint, checksum numeric)
LANGUAGE sql STABLE SET enable_seqscan = on AS $fn$
    SELECT 'user', id / 1024, sum(hashtextextended(phone1 || '/' || phone2, id))
    FROM {prefix}user WHERE deleted = 0 AND (phone1 <> '' OR phone2 <> '') GROUP BY id / 1024
    UNION ALL
    SELECT 'contact', id / 1024, sum(hashtextextended(phoneno, id))
    FROM {prefix}block_moodletxt_ab_entry WHERE phoneno <> '' GROUP BY id / 1024
$fn$;

-- Brings the directory up to date with Moodle's tables: one pass computing
-- the bucket checksums, then the changed buckets rebuilt from Moodle's rows
-- by primary key. Returns the number of entries added or removed, or -1 when
-- a refresh that started after the caller's statement already did the work.
-- One refresh at a time (advisory lock).
CREATE FUNCTION {schema}.refresh_phone_directory() RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = on AS $fn$
DECLARE
    asked timestamptz := statement_timestamp();
    started timestamptz;
    fp numeric;
    removed integer;
    added integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{schema}.phone_directory'));
    IF (SELECT refreshed_at FROM {schema}.phone_directory_state) >= asked THEN
        RETURN -1;
    END IF;
    IF to_regclass('pg_temp.txtpush_changed_buckets') IS NULL THEN
        CREATE TEMP TABLE txtpush_now_buckets (kind text, bucket bigint, checksum numeric) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE txtpush_changed_buckets (kind text, bucket bigint, checksum numeric) ON COMMIT DELETE ROWS;
    ELSE
        TRUNCATE txtpush_now_buckets, txtpush_changed_buckets;
    END IF;
    started := clock_timestamp();
    -- Checksums read before the numbers: a change in between only causes one
    -- more refresh. Their sum is the fingerprint.
    INSERT INTO txtpush_now_buckets SELECT * FROM {schema}.directory_buckets();
    fp := (SELECT coalesce(sum(checksum), 0) FROM txtpush_now_buckets);
    INSERT INTO txtpush_changed_buckets
    SELECT coalesce(c.kind, b.kind), coalesce(c.bucket, b.bucket), c.checksum
    FROM txtpush_now_buckets c
    FULL JOIN {schema}.phone_directory_buckets b ON b.kind = c.kind AND b.bucket = c.bucket
    WHERE c.checksum IS DISTINCT FROM b.checksum;
    ANALYZE txtpush_changed_buckets;
    DELETE FROM {schema}.phone_directory d
    USING txtpush_changed_buckets x
    WHERE d.kind = ANY (CASE x.kind WHEN 'user' THEN ARRAY['phone1', 'phone2'] ELSE ARRAY['contact'] END)
      AND d.id >= x.bucket * 1024 AND d.id < (x.bucket + 1) * 1024;
    GET DIAGNOSTICS removed = ROW_COUNT;
    INSERT INTO {schema}.phone_directory (kind, id, raw, key)
    SELECT n.kind, n.id, n.raw, {schema}.phone_key(n.raw)
    FROM (
        SELECT 'phone1' AS kind, u.id, u.phone1 AS raw FROM txtpush_changed_buckets x
        JOIN {prefix}user u ON u.id >= x.bucket * 1024 AND u.id < (x.bucket + 1) * 1024
        WHERE x.kind = 'user' AND u.deleted = 0 AND u.phone1 <> ''
        UNION ALL
        SELECT 'phone2', u.id, u.phone2 FROM txtpush_changed_buckets x
        JOIN {prefix}user u ON u.id >= x.bucket * 1024 AND u.id < (x.bucket + 1) * 1024
        WHERE x.kind = 'user' AND u.deleted = 0 AND u.phone2 <> ''
        UNION ALL
        SELECT 'contact', e.id, e.phoneno FROM txtpush_changed_buckets x
        JOIN {prefix}block_moodletxt_ab_entry e ON e.id >= x.bucket * 1024 AND e.id < (x.bucket + 1) * 1024
        WHERE x.kind = 'contact' AND e.phoneno <> ''
    ) AS n
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    DELETE FROM {schema}.phone_directory_buckets b
    USING txtpush_changed_buckets x WHERE b.kind = x.kind AND b.bucket = x.bucket;
    INSERT INTO {schema}.phone_directory_buckets (kind, bucket, checksum)
    SELECT kind, bucket, checksum FROM txtpush_changed_buckets WHERE checksum IS NOT NULL;
    UPDATE {schema}.phone_directory_state
    SET refreshed_at = started, cost = clock_timestamp() - started,
        entries = entries - removed + added, fingerprint = fp;
    RETURN removed + added;
END
$fn$;

-- Fill it now, so the first push finds every sender.
SELECT {schema}.refresh_phone_directory();
