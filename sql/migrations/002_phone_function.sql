-- The phone-number rules of lib/phone.cpp (canonical_phone), for numbers
-- stored in Moodle's tables: keep + and digits; 00 -> +; national prefix ->
-- international prefix; other digits -> + and digits. Keep the two in step.
CREATE OR REPLACE FUNCTION {prefix}txtpush_phone(raw text, intl text, natl text) RETURNS text
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
