-- The standalone mirror: the tables of a Moodle 4.x site with MoodleTxt 3.0.5
-- exactly as Moodle's XMLDB generator for PostgreSQL creates them (BIGSERIAL
-- ids, DEFAULT '' on NOT NULL char columns, no foreign keys, Moodle's object
-- names), so that a mirror and a real site have one shape and one code path.
--
-- `txtpushd migrate` runs the block of each table ("-- table: NAME" up to the
-- next one) only when {prefix}NAME does not exist: a table that exists is
-- Moodle's, and is never touched. Moodle names a duplicate object name with a
-- counter (block_moodletxt_status's primary key is ..._id2_pk, since stats
-- came first), as kept here.

-- table: config_plugins
CREATE TABLE {prefix}config_plugins (
    id BIGSERIAL,
    plugin VARCHAR(100) NOT NULL DEFAULT 'core',
    name VARCHAR(100) NOT NULL DEFAULT '',
    value TEXT NOT NULL,
CONSTRAINT {prefix}confplug_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}config_plugins IS 'Moodle modules and plugins configuration variables';
CREATE UNIQUE INDEX {prefix}confplug_plunam_uix ON {prefix}config_plugins (plugin, name);

-- table: user
CREATE TABLE {prefix}user (
    id BIGSERIAL,
    auth VARCHAR(20) NOT NULL DEFAULT 'manual',
    confirmed SMALLINT NOT NULL DEFAULT 0,
    policyagreed SMALLINT NOT NULL DEFAULT 0,
    deleted SMALLINT NOT NULL DEFAULT 0,
    suspended SMALLINT NOT NULL DEFAULT 0,
    mnethostid BIGINT NOT NULL DEFAULT 0,
    username VARCHAR(100) NOT NULL DEFAULT '',
    password VARCHAR(255) NOT NULL DEFAULT '',
    idnumber VARCHAR(255) NOT NULL DEFAULT '',
    firstname VARCHAR(100) NOT NULL DEFAULT '',
    lastname VARCHAR(100) NOT NULL DEFAULT '',
    email VARCHAR(100) NOT NULL DEFAULT '',
    emailstop SMALLINT NOT NULL DEFAULT 0,
    phone1 VARCHAR(20) NOT NULL DEFAULT '',
    phone2 VARCHAR(20) NOT NULL DEFAULT '',
    institution VARCHAR(255) NOT NULL DEFAULT '',
    department VARCHAR(255) NOT NULL DEFAULT '',
    address VARCHAR(255) NOT NULL DEFAULT '',
    city VARCHAR(120) NOT NULL DEFAULT '',
    country VARCHAR(2) NOT NULL DEFAULT '',
    lang VARCHAR(30) NOT NULL DEFAULT 'en',
    calendartype VARCHAR(30) NOT NULL DEFAULT 'gregorian',
    theme VARCHAR(50) NOT NULL DEFAULT '',
    timezone VARCHAR(100) NOT NULL DEFAULT '99',
    firstaccess BIGINT NOT NULL DEFAULT 0,
    lastaccess BIGINT NOT NULL DEFAULT 0,
    lastlogin BIGINT NOT NULL DEFAULT 0,
    currentlogin BIGINT NOT NULL DEFAULT 0,
    lastip VARCHAR(45) NOT NULL DEFAULT '',
    secret VARCHAR(15) NOT NULL DEFAULT '',
    picture BIGINT NOT NULL DEFAULT 0,
    description TEXT,
    descriptionformat SMALLINT NOT NULL DEFAULT 1,
    mailformat SMALLINT NOT NULL DEFAULT 1,
    maildigest SMALLINT NOT NULL DEFAULT 0,
    maildisplay SMALLINT NOT NULL DEFAULT 2,
    autosubscribe SMALLINT NOT NULL DEFAULT 1,
    trackforums SMALLINT NOT NULL DEFAULT 0,
    timecreated BIGINT NOT NULL DEFAULT 0,
    timemodified BIGINT NOT NULL DEFAULT 0,
    trustbitmask BIGINT NOT NULL DEFAULT 0,
    imagealt VARCHAR(255),
    lastnamephonetic VARCHAR(255),
    firstnamephonetic VARCHAR(255),
    middlename VARCHAR(255),
    alternatename VARCHAR(255),
    moodlenetprofile VARCHAR(255),
CONSTRAINT {prefix}user_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}user IS 'One record for each person';
CREATE UNIQUE INDEX {prefix}user_mneuse_uix ON {prefix}user (mnethostid, username);
CREATE INDEX {prefix}user_del_ix ON {prefix}user (deleted);
CREATE INDEX {prefix}user_con_ix ON {prefix}user (confirmed);
CREATE INDEX {prefix}user_fir_ix ON {prefix}user (firstname);
CREATE INDEX {prefix}user_las_ix ON {prefix}user (lastname);
CREATE INDEX {prefix}user_cit_ix ON {prefix}user (city);
CREATE INDEX {prefix}user_cou_ix ON {prefix}user (country);
CREATE INDEX {prefix}user_las2_ix ON {prefix}user (lastaccess);
CREATE INDEX {prefix}user_ema_ix ON {prefix}user (email);
CREATE INDEX {prefix}user_aut_ix ON {prefix}user (auth);
CREATE INDEX {prefix}user_idn_ix ON {prefix}user (idnumber);
CREATE INDEX {prefix}user_fir2_ix ON {prefix}user (firstnamephonetic);
CREATE INDEX {prefix}user_las3_ix ON {prefix}user (lastnamephonetic);
CREATE INDEX {prefix}user_mid_ix ON {prefix}user (middlename);
CREATE INDEX {prefix}user_alt_ix ON {prefix}user (alternatename);

-- table: block_moodletxt_inbox
CREATE TABLE {prefix}block_moodletxt_inbox (
    id BIGSERIAL,
    userid BIGINT NOT NULL,
    ticket BIGINT NOT NULL,
    messagetext TEXT NOT NULL,
    source VARCHAR(20) NOT NULL DEFAULT '',
    sourcefirstname VARCHAR(50) NOT NULL DEFAULT '',
    sourcelastname VARCHAR(50) NOT NULL DEFAULT '',
    timereceived BIGINT NOT NULL,
    hasbeenread SMALLINT NOT NULL,
CONSTRAINT {prefix}blocmoodinbo_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_inbox IS 'Stores details of text messages received';
CREATE INDEX {prefix}blocmoodinbo_use_ix ON {prefix}block_moodletxt_inbox (userid);

-- table: block_moodletxt_accounts
CREATE TABLE {prefix}block_moodletxt_accounts (
    id BIGSERIAL,
    username VARCHAR(40) NOT NULL DEFAULT '',
    password VARCHAR(255) NOT NULL DEFAULT '',
    description VARCHAR(100) NOT NULL DEFAULT '',
    defaultuser BIGINT NOT NULL,
    creditsused BIGINT NOT NULL DEFAULT 0,
    creditsremaining BIGINT NOT NULL DEFAULT 0,
    outboundenabled SMALLINT NOT NULL DEFAULT 1,
    inboundenabled SMALLINT NOT NULL DEFAULT 1,
    accounttype SMALLINT NOT NULL DEFAULT 0,
    lastupdate BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodacco_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_accounts IS 'Stores txttools accounts used within the system.';
CREATE UNIQUE INDEX {prefix}blocmoodacco_use_uix ON {prefix}block_moodletxt_accounts (username);
CREATE INDEX {prefix}blocmoodacco_def_ix ON {prefix}block_moodletxt_accounts (defaultuser);

-- table: block_moodletxt_stats
CREATE TABLE {prefix}block_moodletxt_stats (
    id BIGSERIAL,
    userid BIGINT NOT NULL DEFAULT 0,
    txttoolsaccount BIGINT NOT NULL DEFAULT 0,
    date_entered TIMESTAMP NOT NULL,
    numbersent INTEGER NOT NULL,
CONSTRAINT {prefix}blocmoodstat_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_stats IS 'Holds number of messages sent by users each day.';
CREATE INDEX {prefix}blocmoodstat_use_ix ON {prefix}block_moodletxt_stats (userid);
CREATE INDEX {prefix}blocmoodstat_txt_ix ON {prefix}block_moodletxt_stats (txttoolsaccount);

-- table: block_moodletxt_outbox
CREATE TABLE {prefix}block_moodletxt_outbox (
    id BIGSERIAL,
    userid BIGINT NOT NULL DEFAULT 0,
    txttoolsaccount BIGINT NOT NULL DEFAULT 0,
    messagetext TEXT NOT NULL,
    timesent BIGINT NOT NULL,
    scheduledfor BIGINT NOT NULL,
    type SMALLINT NOT NULL,
    fromevent SMALLINT NOT NULL DEFAULT 0,
CONSTRAINT {prefix}blocmoodoutb_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_outbox IS 'Stores details of message texts sent, linked to the user.';
CREATE INDEX {prefix}blocmoodoutb_use_ix ON {prefix}block_moodletxt_outbox (userid);
CREATE INDEX {prefix}blocmoodoutb_txt_ix ON {prefix}block_moodletxt_outbox (txttoolsaccount);

-- table: block_moodletxt_sent
CREATE TABLE {prefix}block_moodletxt_sent (
    id BIGSERIAL,
    messageid BIGINT NOT NULL,
    ticketnumber BIGINT NOT NULL,
    destination VARCHAR(20) NOT NULL DEFAULT '',
    sendfirstname VARCHAR(50) NOT NULL DEFAULT '',
    sendlastname VARCHAR(50) NOT NULL DEFAULT '',
CONSTRAINT {prefix}blocmoodsent_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_sent IS 'Table stores details of actual SMS messages sent.';
CREATE INDEX {prefix}blocmoodsent_mes_ix ON {prefix}block_moodletxt_sent (messageid);
CREATE UNIQUE INDEX {prefix}blocmoodsent_tic_uix ON {prefix}block_moodletxt_sent (ticketnumber);

-- table: block_moodletxt_status
CREATE TABLE {prefix}block_moodletxt_status (
    id BIGSERIAL,
    ticketnumber BIGINT NOT NULL,
    status SMALLINT NOT NULL,
    statusmessage VARCHAR(100) NOT NULL DEFAULT '',
    updatetime BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodstat_id2_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_status IS 'Table stores status messages for text messages sent.';
CREATE INDEX {prefix}blocmoodstat_tic_ix ON {prefix}block_moodletxt_status (ticketnumber);

-- table: block_moodletxt_templ
CREATE TABLE {prefix}block_moodletxt_templ (
    id BIGSERIAL,
    userid BIGINT NOT NULL,
    template TEXT NOT NULL,
CONSTRAINT {prefix}blocmoodtemp_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_templ IS 'Table stores user-specific text message templates.';
CREATE INDEX {prefix}blocmoodtemp_use_ix ON {prefix}block_moodletxt_templ (userid);

-- table: block_moodletxt_rss
CREATE TABLE {prefix}block_moodletxt_rss (
    id BIGSERIAL,
    title VARCHAR(255) NOT NULL DEFAULT '',
    link VARCHAR(255) NOT NULL DEFAULT '',
    pubtime BIGINT NOT NULL,
    description TEXT NOT NULL,
    expirytime BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodrss_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_rss IS 'Holds previously downloaded RSS updates.';

-- table: block_moodletxt_uconfig
CREATE TABLE {prefix}block_moodletxt_uconfig (
    id BIGSERIAL,
    userid BIGINT NOT NULL,
    setting VARCHAR(50) NOT NULL DEFAULT '',
    value VARCHAR(255) NOT NULL DEFAULT '',
CONSTRAINT {prefix}blocmooducon_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_uconfig IS 'Holds user settings for moodletxt.';
CREATE INDEX {prefix}blocmooducon_use_ix ON {prefix}block_moodletxt_uconfig (userid);

-- table: block_moodletxt_filter
CREATE TABLE {prefix}block_moodletxt_filter (
    id BIGSERIAL,
    account BIGINT NOT NULL,
    type VARCHAR(7) NOT NULL DEFAULT 'KEYWORD',
    value VARCHAR(50) NOT NULL DEFAULT '',
CONSTRAINT {prefix}blocmoodfilt_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_filter IS 'Holds filters for filtering inbound messages to inboxes.';
CREATE INDEX {prefix}blocmoodfilt_acc_ix ON {prefix}block_moodletxt_filter (account);

-- table: block_moodletxt_in_fil
CREATE TABLE {prefix}block_moodletxt_in_fil (
    id BIGSERIAL,
    filter BIGINT NOT NULL,
    userid BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodinfil_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_in_fil IS 'Links inbound filters to inboxes.';
CREATE INDEX {prefix}blocmoodinfil_fil_ix ON {prefix}block_moodletxt_in_fil (filter);
CREATE INDEX {prefix}blocmoodinfil_use_ix ON {prefix}block_moodletxt_in_fil (userid);

-- table: block_moodletxt_ab
CREATE TABLE {prefix}block_moodletxt_ab (
    id BIGSERIAL,
    name VARCHAR(50) NOT NULL DEFAULT '',
    type VARCHAR(7) NOT NULL DEFAULT 'global',
    owner BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodab_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_ab IS 'Stores top-level details of an address book.';
CREATE INDEX {prefix}blocmoodab_own_ix ON {prefix}block_moodletxt_ab (owner);

-- table: block_moodletxt_ab_entry
CREATE TABLE {prefix}block_moodletxt_ab_entry (
    id BIGSERIAL,
    addressbook BIGINT NOT NULL,
    lastname VARCHAR(50) NOT NULL DEFAULT '',
    firstname VARCHAR(50) NOT NULL DEFAULT '',
    company VARCHAR(100) NOT NULL DEFAULT '',
    phoneno VARCHAR(20) NOT NULL DEFAULT '',
CONSTRAINT {prefix}blocmoodabentr_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_ab_entry IS 'Holds contact details for address books.';
CREATE INDEX {prefix}blocmoodabentr_add_ix ON {prefix}block_moodletxt_ab_entry (addressbook);

-- table: block_moodletxt_ab_u
CREATE TABLE {prefix}block_moodletxt_ab_u (
    id BIGSERIAL,
    addressbook BIGINT NOT NULL,
    userid BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodabu_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_ab_u IS 'Links users to private address books.';
CREATE INDEX {prefix}blocmoodabu_add_ix ON {prefix}block_moodletxt_ab_u (addressbook);
CREATE INDEX {prefix}blocmoodabu_use_ix ON {prefix}block_moodletxt_ab_u (userid);

-- table: block_moodletxt_ab_group
CREATE TABLE {prefix}block_moodletxt_ab_group (
    id BIGSERIAL,
    addressbook BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL DEFAULT '',
    description TEXT NOT NULL,
CONSTRAINT {prefix}blocmoodabgrou_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_ab_group IS 'Stores details of address book contact groups.';
CREATE INDEX {prefix}blocmoodabgrou_add_ix ON {prefix}block_moodletxt_ab_group (addressbook);

-- table: block_moodletxt_ab_grpmem
CREATE TABLE {prefix}block_moodletxt_ab_grpmem (
    id BIGSERIAL,
    contact BIGINT NOT NULL,
    groupid BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodabgrpm_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_ab_grpmem IS 'Links address book contacts to groups.';
CREATE INDEX {prefix}blocmoodabgrpm_con_ix ON {prefix}block_moodletxt_ab_grpmem (contact);
CREATE INDEX {prefix}blocmoodabgrpm_gro_ix ON {prefix}block_moodletxt_ab_grpmem (groupid);

-- table: block_moodletxt_in_ab
CREATE TABLE {prefix}block_moodletxt_in_ab (
    id BIGSERIAL,
    contact BIGINT NOT NULL,
    receivedmessage BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodinab_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_in_ab IS 'Links address book contacts to received messages.';
CREATE INDEX {prefix}blocmoodinab_con_ix ON {prefix}block_moodletxt_in_ab (contact);
CREATE INDEX {prefix}blocmoodinab_rec_ix ON {prefix}block_moodletxt_in_ab (receivedmessage);

-- table: block_moodletxt_in_u
CREATE TABLE {prefix}block_moodletxt_in_u (
    id BIGSERIAL,
    userid BIGINT NOT NULL,
    receivedmessage BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodinu_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_in_u IS 'Links received messages to Moodle users.';
CREATE INDEX {prefix}blocmoodinu_use_ix ON {prefix}block_moodletxt_in_u (userid);
CREATE INDEX {prefix}blocmoodinu_rec_ix ON {prefix}block_moodletxt_in_u (receivedmessage);

-- table: block_moodletxt_sent_ab
CREATE TABLE {prefix}block_moodletxt_sent_ab (
    id BIGSERIAL,
    contact BIGINT NOT NULL,
    sentmessage BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodsentab_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_sent_ab IS 'Links address book contacts to sent messages.';
CREATE INDEX {prefix}blocmoodsentab_con_ix ON {prefix}block_moodletxt_sent_ab (contact);
CREATE INDEX {prefix}blocmoodsentab_sen_ix ON {prefix}block_moodletxt_sent_ab (sentmessage);

-- table: block_moodletxt_sent_u
CREATE TABLE {prefix}block_moodletxt_sent_u (
    id BIGSERIAL,
    userid BIGINT NOT NULL,
    sentmessage BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodsentu_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_sent_u IS 'Links sent messages to Moodle users.';
CREATE INDEX {prefix}blocmoodsentu_use_ix ON {prefix}block_moodletxt_sent_u (userid);
CREATE INDEX {prefix}blocmoodsentu_sen_ix ON {prefix}block_moodletxt_sent_u (sentmessage);

-- table: block_moodletxt_restrict
CREATE TABLE {prefix}block_moodletxt_restrict (
    id BIGSERIAL,
    txttoolsaccount BIGINT NOT NULL,
    moodleuser BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodrest_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_restrict IS 'Restricts outbound access to an account to certain users only.';
CREATE INDEX {prefix}blocmoodrest_txt_ix ON {prefix}block_moodletxt_restrict (txttoolsaccount);
CREATE INDEX {prefix}blocmoodrest_moo_ix ON {prefix}block_moodletxt_restrict (moodleuser);

-- table: block_moodletxt_tags
CREATE TABLE {prefix}block_moodletxt_tags (
    id BIGSERIAL,
    userid BIGINT NOT NULL,
    name VARCHAR(50) NOT NULL DEFAULT '',
    colour VARCHAR(7),
CONSTRAINT {prefix}blocmoodtags_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_tags IS 'Holds inbox tags for a user.';
CREATE INDEX {prefix}blocmoodtags_use_ix ON {prefix}block_moodletxt_tags (userid);

-- table: block_moodletxt_in_tag
CREATE TABLE {prefix}block_moodletxt_in_tag (
    id BIGSERIAL,
    message BIGINT NOT NULL,
    tag BIGINT NOT NULL,
CONSTRAINT {prefix}blocmoodintag_id_pk PRIMARY KEY (id));
COMMENT ON TABLE {prefix}block_moodletxt_in_tag IS 'Links inbox messages to tags';
