-- The benchmark's Moodle: a college account with a keyword filter, 2000
-- users (50 of them the senders of the mixed pushes), 40 global contacts.
TRUNCATE mdl_user, mdl_block_moodletxt_accounts, mdl_block_moodletxt_filter, mdl_block_moodletxt_in_fil,
    mdl_block_moodletxt_ab, mdl_block_moodletxt_ab_entry, mdl_block_moodletxt_status, mdl_block_moodletxt_inbox,
    mdl_block_moodletxt_in_u, mdl_block_moodletxt_in_ab, txtpush.unrouted, txtpush.flags, txtpush.status_ledger,
    txtpush.inbound_ledger;
INSERT INTO mdl_user (id, username, firstname, lastname, phone2)
SELECT g, 'user' || g, 'First' || g, 'Last' || g,
       CASE WHEN g BETWEEN 1000 AND 1049 THEN '07700 9' || lpad((g - 1000)::text, 5, '0')
            ELSE '07800 ' || lpad(g::text, 6, '0') END
FROM generate_series(100, 2099) AS g;
INSERT INTO mdl_block_moodletxt_accounts (id, username, password, description, defaultuser, lastupdate)
VALUES (1, 'CollegeSMS', 'x', 'College', 100, 0);
INSERT INTO mdl_block_moodletxt_filter (id, account, type, value) VALUES (1, 1, 'keyword', 'HELP');
INSERT INTO mdl_block_moodletxt_in_fil (filter, userid) VALUES (1, 101), (1, 102);
INSERT INTO mdl_block_moodletxt_ab (id, name, type, owner) VALUES (1, 'School', 'global', 0);
INSERT INTO mdl_block_moodletxt_ab_entry (addressbook, lastname, firstname, company, phoneno)
SELECT 1, 'Contact' || g, 'C', '', '+44 7700 8' || lpad(g::text, 5, '0') FROM generate_series(0, 39) AS g;
SELECT txtpush.refresh_phone_directory();
ANALYZE;
