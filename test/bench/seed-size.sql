-- A Moodle site of a given shape for test/bench/sweep.sh:
--   :users     accounts, as Moodle stores them (e-mail, password hash, city, ...),
--              a twentieth of them deleted
--   :numbered  percent of them with a mobile number (most accounts never enter one)
--   :contacts  address-book entries (at least the bench's 40)
--   :history   rows of history in each of the status and inbox tables
-- and the bench's college account, senders (users 1000-1049) and contacts
-- (as seed.sql), 500 keyword filters, the duplicates a real site has. The
-- history goes into txtpush's ledger as migrate would have put it.
TRUNCATE mdl_user, mdl_block_moodletxt_accounts, mdl_block_moodletxt_filter, mdl_block_moodletxt_in_fil,
    mdl_block_moodletxt_ab, mdl_block_moodletxt_ab_entry, mdl_block_moodletxt_status, mdl_block_moodletxt_inbox,
    mdl_block_moodletxt_in_u, mdl_block_moodletxt_in_ab, txtpush.unrouted, txtpush.flags, txtpush.status_ledger,
    txtpush.inbound_ledger;
INSERT INTO mdl_user (id, username, password, firstname, lastname, email, phone2, city, country, lastip,
                      timecreated, timemodified, lastaccess, deleted)
SELECT g, 'student' || g, '$2y$10$' || md5(g::text) || left(md5((-g)::text), 21), 'First' || g, 'Lastname' || g,
       'student' || g || '@college.example.ac.uk',
       CASE WHEN g BETWEEN 1000 AND 1049 THEN '07700 9' || lpad((g - 1000)::text, 5, '0')
            WHEN g % 100 < :numbered THEN '07800 ' || lpad(g::text, 6, '0') ELSE '' END,
       'Manchester', 'GB', '10.1.' || g % 250 || '.' || g % 200, 1600000000, 1600000000, 1700000000,
       CASE WHEN g % 20 = 7 AND g NOT BETWEEN 1000 AND 1049 THEN 1 ELSE 0 END
FROM generate_series(100, 100 + greatest(:users, 1100) - 1) AS g;
INSERT INTO mdl_block_moodletxt_accounts (id, username, password, description, defaultuser, lastupdate)
VALUES (1, 'CollegeSMS', 'x', 'College', 100, 0);
INSERT INTO mdl_block_moodletxt_filter (id, account, type, value)
SELECT g, 1, 'keyword', CASE WHEN g = 1 THEN 'HELP' ELSE 'WORD' || g END FROM generate_series(1, 500) AS g;
INSERT INTO mdl_block_moodletxt_in_fil (filter, userid) SELECT g, 101 + g % 50 FROM generate_series(1, 500) AS g;
INSERT INTO mdl_block_moodletxt_in_fil (filter, userid) VALUES (1, 102);
INSERT INTO mdl_block_moodletxt_ab (id, name, type, owner) VALUES (1, 'School', 'global', 0);
INSERT INTO mdl_block_moodletxt_ab_entry (addressbook, lastname, firstname, company, phoneno)
SELECT 1, 'Contact' || g, 'C', '', CASE WHEN g < 40 THEN '+44 7700 8' || lpad(g::text, 5, '0')
                                        ELSE '+44 7900 ' || lpad(g::text, 6, '0') END
FROM generate_series(0, greatest(:contacts, 40) - 1) AS g;
-- History: tickets below the bench's, a fifth of them stored twice.
INSERT INTO mdl_block_moodletxt_status (ticketnumber, status, statusmessage, updatetime)
SELECT 1 + g / 3, g % 3 * 2 + 1, 'history', 1600000000 + g FROM generate_series(0, :history - 1) AS g
UNION ALL SELECT 1 + g / 3, g % 3 * 2 + 1, 'history', 1600000000 + g FROM generate_series(0, :history / 5 - 1) AS g;
INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, timereceived, hasbeenread)
SELECT 100 + g % greatest(:users, 1100), 1 + g, 'history', '+447700900001', 1600000000 + g, 1
FROM generate_series(0, :history - 1) AS g;
INSERT INTO txtpush.status_ledger (ticketnumber, status, received_at, origin, statusid)
SELECT ticketnumber, status, to_timestamp(min(updatetime)), 'history', min(id)
FROM mdl_block_moodletxt_status GROUP BY ticketnumber, status
ON CONFLICT DO NOTHING;
INSERT INTO txtpush.inbound_ledger (ticket, userid, received_at, origin, inboxid)
SELECT ticket, userid, to_timestamp(min(timereceived)), 'history', min(id)
FROM mdl_block_moodletxt_inbox GROUP BY ticket, userid
ON CONFLICT DO NOTHING;  -- the running spooler may have caught some up already
UPDATE txtpush.inbox_watch SET watermark = (SELECT coalesce(max(id), 0) FROM mdl_block_moodletxt_inbox);
SELECT txtpush.refresh_phone_directory();
VACUUM ANALYZE;
CHECKPOINT;  -- so that the seeding's writes do not land in the measurement
