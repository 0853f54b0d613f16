-- The MoodleTxt 3.0.5 plugin tables, the Moodle core columns the push path
-- reads, and the unique indexes txtpush's idempotent upserts rely on.
-- {prefix} is replaced by the configured table prefix (default mdl_).
-- Moodle's PostgreSQL mapping: int10+ BIGINT, int5-9 INTEGER, int<=4 SMALLINT,
-- char(n) VARCHAR(n), id BIGSERIAL; no foreign keys, only indexes.

CREATE TABLE IF NOT EXISTS {prefix}user (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(100) NOT NULL DEFAULT '',
    firstname VARCHAR(100) NOT NULL DEFAULT '',
    lastname VARCHAR(100) NOT NULL DEFAULT '',
    phone1 VARCHAR(20) NOT NULL DEFAULT '',
    phone2 VARCHAR(20) NOT NULL DEFAULT '',
    deleted SMALLINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS {prefix}config_plugins (
    id BIGSERIAL PRIMARY KEY,
    plugin VARCHAR(100) NOT NULL DEFAULT 'core',
    name VARCHAR(100) NOT NULL DEFAULT '',
    value TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}confplug_plunam_uix ON {prefix}config_plugins (plugin, name);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_inbox (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL,
    ticket BIGINT NOT NULL,
    messagetext TEXT NOT NULL,
    source VARCHAR(20) NOT NULL,
    sourcefirstname VARCHAR(50) NOT NULL,
    sourcelastname VARCHAR(50) NOT NULL,
    timereceived BIGINT NOT NULL,
    hasbeenread SMALLINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_inbox_userid_ix ON {prefix}block_moodletxt_inbox (userid);
-- txtpush: one inbox row per (gateway ticket, receiving user) makes replays harmless.
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}block_moodletxt_inbox_ticket_userid_uix
    ON {prefix}block_moodletxt_inbox (ticket, userid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_accounts (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(40) NOT NULL,
    password VARCHAR(255) NOT NULL,
    description VARCHAR(100) NOT NULL,
    defaultuser BIGINT NOT NULL,
    creditsused BIGINT NOT NULL DEFAULT 0,
    creditsremaining BIGINT NOT NULL DEFAULT 0,
    outboundenabled SMALLINT NOT NULL DEFAULT 1,
    inboundenabled SMALLINT NOT NULL DEFAULT 1,
    accounttype SMALLINT NOT NULL DEFAULT 0,
    lastupdate BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}block_moodletxt_accounts_username_uix
    ON {prefix}block_moodletxt_accounts (username);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_accounts_defaultuser_ix
    ON {prefix}block_moodletxt_accounts (defaultuser);
-- txtpush: DestinationAccount is matched case-insensitively.
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_accounts_lower_username_ix
    ON {prefix}block_moodletxt_accounts (lower(username));

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_stats (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL DEFAULT 0,
    txttoolsaccount BIGINT NOT NULL DEFAULT 0,
    date_entered TIMESTAMP NOT NULL,
    numbersent INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_stats_userid_ix ON {prefix}block_moodletxt_stats (userid);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_stats_txttoolsaccount_ix ON {prefix}block_moodletxt_stats (txttoolsaccount);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_outbox (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL DEFAULT 0,
    txttoolsaccount BIGINT NOT NULL DEFAULT 0,
    messagetext TEXT NOT NULL,
    timesent BIGINT NOT NULL,
    scheduledfor BIGINT NOT NULL,
    type SMALLINT NOT NULL,
    fromevent SMALLINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_outbox_userid_ix ON {prefix}block_moodletxt_outbox (userid);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_outbox_txttoolsaccount_ix ON {prefix}block_moodletxt_outbox (txttoolsaccount);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_sent (
    id BIGSERIAL PRIMARY KEY,
    messageid BIGINT NOT NULL,
    ticketnumber BIGINT NOT NULL,
    destination VARCHAR(20) NOT NULL,
    sendfirstname VARCHAR(50) NOT NULL,
    sendlastname VARCHAR(50) NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_sent_messageid_ix ON {prefix}block_moodletxt_sent (messageid);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}block_moodletxt_sent_ticketnumber_uix ON {prefix}block_moodletxt_sent (ticketnumber);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_status (
    id BIGSERIAL PRIMARY KEY,
    ticketnumber BIGINT NOT NULL,
    status SMALLINT NOT NULL,
    statusmessage VARCHAR(100) NOT NULL,
    updatetime BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_status_ticketnumber_ix ON {prefix}block_moodletxt_status (ticketnumber);
-- txtpush: one row per (ticket, status code) makes replays harmless.
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}block_moodletxt_status_ticketnumber_status_uix
    ON {prefix}block_moodletxt_status (ticketnumber, status);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_templ (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL,
    template TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_templ_userid_ix ON {prefix}block_moodletxt_templ (userid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_rss (
    id BIGSERIAL PRIMARY KEY,
    title VARCHAR(255) NOT NULL,
    link VARCHAR(255) NOT NULL,
    pubtime BIGINT NOT NULL,
    description TEXT NOT NULL,
    expirytime BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_uconfig (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL,
    setting VARCHAR(50) NOT NULL,
    value VARCHAR(255) NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_uconfig_userid_ix ON {prefix}block_moodletxt_uconfig (userid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_filter (
    id BIGSERIAL PRIMARY KEY,
    account BIGINT NOT NULL,
    type VARCHAR(7) NOT NULL DEFAULT 'KEYWORD',
    value VARCHAR(50) NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_filter_account_ix ON {prefix}block_moodletxt_filter (account);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_in_fil (
    id BIGSERIAL PRIMARY KEY,
    filter BIGINT NOT NULL,
    userid BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_in_fil_filter_ix ON {prefix}block_moodletxt_in_fil (filter);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_in_fil_userid_ix ON {prefix}block_moodletxt_in_fil (userid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_ab (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    type VARCHAR(7) NOT NULL DEFAULT 'global',
    owner BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_owner_ix ON {prefix}block_moodletxt_ab (owner);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_ab_entry (
    id BIGSERIAL PRIMARY KEY,
    addressbook BIGINT NOT NULL,
    lastname VARCHAR(50) NOT NULL,
    firstname VARCHAR(50) NOT NULL,
    company VARCHAR(100) NOT NULL,
    phoneno VARCHAR(20) NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_entry_addressbook_ix ON {prefix}block_moodletxt_ab_entry (addressbook);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_ab_u (
    id BIGSERIAL PRIMARY KEY,
    addressbook BIGINT NOT NULL,
    userid BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_u_addressbook_ix ON {prefix}block_moodletxt_ab_u (addressbook);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_u_userid_ix ON {prefix}block_moodletxt_ab_u (userid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_ab_group (
    id BIGSERIAL PRIMARY KEY,
    addressbook BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_group_addressbook_ix ON {prefix}block_moodletxt_ab_group (addressbook);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_ab_grpmem (
    id BIGSERIAL PRIMARY KEY,
    contact BIGINT NOT NULL,
    groupid BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_grpmem_contact_ix ON {prefix}block_moodletxt_ab_grpmem (contact);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_ab_grpmem_groupid_ix ON {prefix}block_moodletxt_ab_grpmem (groupid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_in_ab (
    id BIGSERIAL PRIMARY KEY,
    contact BIGINT NOT NULL,
    receivedmessage BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_in_ab_contact_ix ON {prefix}block_moodletxt_in_ab (contact);
-- txtpush: at most one sender link per inbox row.
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}block_moodletxt_in_ab_receivedmessage_uix
    ON {prefix}block_moodletxt_in_ab (receivedmessage);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_in_u (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL,
    receivedmessage BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_in_u_userid_ix ON {prefix}block_moodletxt_in_u (userid);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}block_moodletxt_in_u_receivedmessage_uix
    ON {prefix}block_moodletxt_in_u (receivedmessage);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_sent_ab (
    id BIGSERIAL PRIMARY KEY,
    contact BIGINT NOT NULL,
    sentmessage BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_sent_ab_contact_ix ON {prefix}block_moodletxt_sent_ab (contact);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_sent_ab_sentmessage_ix ON {prefix}block_moodletxt_sent_ab (sentmessage);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_sent_u (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL,
    sentmessage BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_sent_u_userid_ix ON {prefix}block_moodletxt_sent_u (userid);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_sent_u_sentmessage_ix ON {prefix}block_moodletxt_sent_u (sentmessage);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_restrict (
    id BIGSERIAL PRIMARY KEY,
    txttoolsaccount BIGINT NOT NULL,
    moodleuser BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_restrict_txttoolsaccount_ix ON {prefix}block_moodletxt_restrict (txttoolsaccount);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_restrict_moodleuser_ix ON {prefix}block_moodletxt_restrict (moodleuser);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_tags (
    id BIGSERIAL PRIMARY KEY,
    userid BIGINT NOT NULL,
    name VARCHAR(50) NOT NULL,
    colour VARCHAR(7)
);
CREATE INDEX IF NOT EXISTS {prefix}block_moodletxt_tags_userid_ix ON {prefix}block_moodletxt_tags (userid);

CREATE TABLE IF NOT EXISTS {prefix}block_moodletxt_in_tag (
    id BIGSERIAL PRIMARY KEY,
    message BIGINT NOT NULL,
    tag BIGINT NOT NULL
);

-- txtpush's own: inbound SMS that had nowhere to go (unknown or disabled
-- account, missing default user), kept for an operator to re-route.
CREATE TABLE IF NOT EXISTS {prefix}txtpush_unrouted (
    id BIGSERIAL PRIMARY KEY,
    ticket BIGINT NOT NULL,
    messagetext TEXT NOT NULL,
    source VARCHAR(40) NOT NULL,
    destination VARCHAR(255) NOT NULL,
    destinationaccount VARCHAR(255) NOT NULL,
    timereceived BIGINT NOT NULL,
    reason VARCHAR(100) NOT NULL,
    timestored BIGINT NOT NULL,
    routed SMALLINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}txtpush_unrouted_ticket_uix ON {prefix}txtpush_unrouted (ticket);
