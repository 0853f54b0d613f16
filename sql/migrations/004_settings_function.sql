-- MoodleTxt's settings, for txtpushd's runtime role, which may not read
-- config_plugins: that table holds every plugin's secrets. This function runs
-- with the rights of its owner (the role that ran migrate, owner of Moodle's
-- tables) and returns only the moodletxt settings txtpushd uses: the push
-- credentials (Push_Password encrypted, EK to decrypt it), the phone rules,
-- and the two polling switches its checks report on (the setup turns them
-- off once push works). The pattern of
-- pgbouncer's auth_query function: SECURITY DEFINER, search_path pinned,
-- EXECUTE granted to the runtime role only. Its body is text, not BEGIN
-- ATOMIC, so Moodle may still alter or drop config_plugins.
DO $do$
DECLARE
    settings_table text := (SELECT format('%I.%I', n.nspname, c.relname)
                            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE c.oid = to_regclass('{prefix}config_plugins'));
BEGIN
    IF settings_table IS NULL THEN
        RAISE EXCEPTION 'no table {prefix}config_plugins: is [database] table_prefix Moodle''s $CFG->prefix?';
    END IF;
    EXECUTE format($f$
CREATE FUNCTION {schema}.moodletxt_settings() RETURNS TABLE (name text, value text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT name::text, value FROM %s
    WHERE plugin = 'moodletxt'
      AND name IN ('Push_Username', 'Push_Password', 'EK', 'Phone_Number_Source',
                   'Default_International_Prefix', 'National_Prefix',
                   'Get_Status_On_View', 'Get_Inbound_On_View')
$fn$$f$, settings_table);
END
$do$;
REVOKE ALL ON FUNCTION {schema}.moodletxt_settings() FROM PUBLIC;

-- An inbound SMS whose sender is not a phone number (an alphanumeric sender
-- id such as ACMEPOST) is kept here whole: its sender as received, however long.
ALTER TABLE {schema}.unrouted ALTER COLUMN source TYPE TEXT;
-- Those kept before, under another reason, say so now: reroute leaves them.
UPDATE {schema}.unrouted SET reason = 'sender_not_a_number'
WHERE routed = 0 AND regexp_replace(source, '[^+0-9]', '', 'g') !~ '^\+?[0-9]{5,20}$';
