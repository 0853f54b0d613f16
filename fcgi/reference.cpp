#include "reference.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "config.hpp"

namespace txtpush {

namespace {

struct SignalDoc {
    std::string_view signal;
    std::string_view effect;
};

struct ExitCodeDoc {
    int code;
    std::string_view meaning;
};

struct FileDoc {
    std::string_view path;
    std::string_view what;
};

const std::vector<SignalDoc> kSignals = {
    {"SIGTERM, SIGINT, SIGQUIT",
     "workers stop accepting, finish the request in hand and exit; after stop_grace the rest are killed; the "
     "master exits 0"},
    {"SIGHUP",
     "the config is read again. A bad one is refused (event=reload_refused) and the running pool keeps serving. A "
     "good one starts a new generation of children at once; each old child is told to stop as soon as its "
     "successor accepts (or after 5 s), so no request fails, and is killed if still there after stop_grace, so none "
     "serves on with the old credentials (event=reloaded, then READY=1). listen, the socket's mode and the spool "
     "folder stay as they were until a restart (event=reload_keeps_socket, reload_keeps_spool). systemctl reload "
     "runs check-config first and fails on a bad file. Workers and the spooler ignore SIGHUP"},
    {"SIGUSR1",
     "reopens stderr when it is a file (the path it had at start, so a log rotated by rename is recreated), in the "
     "master and then in each child, which the master signals (event=reopened_logs; event=reopen_failed if it "
     "cannot); under systemd stderr is the journal and nothing changes. A child takes it between requests (it "
     "stays blocked while one is in hand). Never ends a process, never cuts a request short"},
    {"SIGUSR2", "logged (event=signal_ignored) and otherwise ignored, in every process"},
    {"SIGPIPE", "ignored in every process: a vanished peer is an error return"},
    {"a signal during a request",
     "a worker holds the stop signals back while it reads, stores and answers a request (libfcgi does not retry a "
     "read cut by EINTR), and keeps USR1 and USR2 blocked, taking them between requests, so no signal changes the "
     "answer to a request in flight. Each child sets these before libfcgi's FCGX_Init could install its own SIGUSR1 "
     "handler (fcgi/signals.hpp has the table)"},
    {"a worker exits or is killed",
     "it is replaced at once (event=worker_died); 10 deaths within 10 s pause replacements for 5 s "
     "(event=crash_loop)"},
    {"max_requests reached", "the worker finishes its request, exits, and is replaced (event=worker_recycled)"},
    {"request_timeout passed",
     "the slow-log line event=request_timeout request_id=... phase=storing busy_ms=..., then the worker is killed "
     "and replaced"},
};

const std::vector<ExitCodeDoc> kExitCodes = {
    {kExitOk, "done; for the service, a clean stop"},
    {kExitFailed,
     "the work could not be done: the database refused or was unreachable, a migration or uninstall was refused, "
     "a spool or quarantine item was not found, validate found the document invalid"},
    {kExitBadConfig, "the configuration file is unreadable or invalid (check-config says why)"},
    {kExitUsage, "the command line is wrong"},
};

// Name and meaning: the man page's ENVIRONMENT, LOGGING and HTTP ANSWERS.
const std::vector<FileDoc> kEnvironment = {
    {"LISTEN_FDS, LISTEN_PID", "set by systemd (txtpushd.socket): the listening socket is taken from it, not opened"},
    {"NOTIFY_SOCKET", "set by systemd (Type=notify): READY=1, RELOADING=1, STOPPING=1 and STATUS= are sent there"},
    {"PGPASSFILE, PGPASSWORD, PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE",
     "read by libpq for what [database] conninfo (or migrate's --conninfo) does not say; PGPASSFILE or "
     "passfile= keeps the password out of the configuration"},
    {"TZ", "not used for the log: its timestamps are UTC"},
};

const std::vector<FileDoc> kLogEvents = {
    {"push_stored, push_spooled", "a push stored (200) or spooled (202) with what it held; spooled: see its reason"},
    {"push_refused", "a refused request with status, outcome and reason; outcome=auth is a wrong login (fail2ban "
                     "reads these), outcome=disabled means push is off in MoodleTxt's settings"},
    {"push_credentials", "where the push credentials come from and whether push is enabled; kind=forbidden: set "
                         "Push_Username and Push_Password on MoodleTxt's settings page"},
    {"db_misconfigured", "at most once a minute: the database lacks a table, column, function, right or login "
                         "txtpushd needs; fix= says what to do (migrate, grants, conninfo); pushes get 503"},
    {"db_error", "a database error with its sqlstate and kind (transient: spooled and retried)"},
    {"spool_waiting_for_database, spool_unstorable", "the spool cannot drain now (reason=), or a push the "
                                                     "database refuses for good was set aside in unstorable/"},
    {"request_timeout, worker_died, crash_loop", "a worker killed after request_timeout (with its phase), one that "
                                                 "died, or deaths so frequent that replacements pause"},
    {"reload_refused, config_invalid, listen_failed", "a bad configuration (the running pool keeps serving on "
                                                      "reload), or a socket that cannot be opened"},
    {"reopened_logs, reopen_failed, signal_ignored", "USR1 and USR2 as the SIGNALS table says"},
};

const std::vector<FileDoc> kAnswers = {
    {"200", "stored, or a replay of rows already stored: ok statuses=N statuses_new=N inbound=N ..."},
    {"202", "the database cannot take it now: durable in the spool, stored later"},
    {"400", "not a form post, a missing or repeated field, XML not well-formed, a DOCTYPE, an encoding other than "
            "UTF-8, Latin-1 or UTF-16, or a document the XSD refuses (the first error in the body)"},
    {"403", "wrong push username or password, or push not enabled in MoodleTxt's settings"},
    {"405, 413", "not a POST; a body over body_limit"},
    {"500", "the database refuses the push's own values for good (quarantined)"},
    {"503", "the database is not what txtpush was migrated for, or refused txtpushd's login or rights; or the push "
            "credentials cannot be read yet; or neither the database nor the spool can take it (Retry-After: 30)"},
};

const std::vector<FileDoc> kFiles = {
    {"/etc/txtpush/txtpushd.conf", "the configuration (mode 0640, group txtpush: it may hold the database password and push credentials)"},
    {"/etc/txtpush/txtpushd.conf.d/*.conf", "drop-ins read after it, in name order, overriding it: local settings "
                                            "go here, so upgrades never meet an edited conffile"},
    {"/etc/nginx/snippets/txtpush.conf, txtpush-status.conf",
     "the push location for the site's server block, and status and ping for a loopback-only one (include them "
     "as patterns, txtpush.con[f], so nginx stays valid once the package is gone)"},
    {"/etc/fail2ban/filter.d/txtpush.conf", "bans addresses that fail the push login"},
    {"/usr/share/txtpush/grafana/txtpush.json, /usr/share/txtpush/prometheus/",
     "the dashboard, the alerting rules and a scrape job for the status page"},
    {"/var/lib/txtpush/spool/push-credentials", "digests of the last push credentials read, for a worker started "
                                                "while the database is down (mode 0600)"},
    {"/run/txtpush/txtpushd.sock", "the FastCGI socket nginx talks to (or the one txtpushd.socket passes)"},
    {"/var/lib/txtpush/spool", "pushes waiting for the database; unstorable/ holds those it refused for good"},
    {"/var/lib/txtpush/quarantine", "refused pushes kept with their reason"},
    {"/usr/share/txtpush/sql", "the schema, migrations and DBA queries"},
};

const std::vector<CommandDoc> kCommands = {
    {"", "[-c FILE]",
     "runs the pool in the foreground: the master, its FastCGI workers and the spooler (systemd or the quickstart "
     "put it in the background)"},
    {"migrate", "-c FILE [--conninfo C] [--plan]",
     "creates or upgrades txtpush's schema; in a database without MoodleTxt's tables, creates them as Moodle would "
     "(standalone mirror). Runs as the owner of Moodle's tables (--conninfo overrides [database] conninfo). --plan "
     "prints the steps and their SQL and changes nothing. Running it again changes nothing"},
    {"grants", "ROLE [-c FILE]", "prints, as one transaction, the REVOKEs of what earlier versions granted and the GRANTs that let ROLE run "
              "txtpushd and nothing more: column-level SELECT on what it reads, never a password column or "
              "config_plugins"},
    {"uninstall", "-c FILE [--conninfo C]",
     "drops txtpush's schema and all in it; nothing of Moodle's (refuses if the schema holds anything not "
     "txtpush's)"},
    {"check-config", "-c FILE", "checks the configuration (unknown, repeated or invalid keys and sections) and exits"},
    {"validate", "FILE",
     "checks an XML push document offline against the XSD and prints what would be stored; no database, no config"},
    {"check", "-c FILE",
     "like nginx -t against the real database: connects as the runtime role and checks the migration level, every "
     "right txtpushd needs (and that it cannot read password columns or config_plugins), the connection budget "
     "(workers, spooler and a reload's second generation), that nginx's user can reach the socket, MoodleTxt's push "
     "credentials and polling switches; prints what ConnectTxt needs (the push path, the inbound-enabled accounts). "
     "One line per finding, each failure with its fix; exit 0 only when none failed"},
    {"hash-password", "", "reads a password on stdin, prints the password_sha256 value"},
    {"spool", "list|show ID|replay -c FILE",
     "lists (with those set aside in unstorable/), shows or replays (now, in arrival order) the pushes waiting in "
     "the spool; replay is for a stopped service (a running one counts its spool in memory)"},
    {"quarantine", "list|show NAME -c FILE", "lists or shows the refused pushes kept, each headed by its reason"},
    {"reroute", "-c FILE",
     "routes again the inbound SMS in txtpush.unrouted (after an account or default user was fixed), in batches "
     "of 500; those that reach an inbox are marked routed = 1"},
    {"sql", "[-c FILE]", "prints the SQL statements a worker prepares, with the table prefix applied"},
};

std::string md_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

// roff: a backslash is \e, a line must not start with . or ', and - is \-.
std::string roff(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

std::string command_line(const CommandDoc& c) {
    return c.name.empty() ? fmt::format("txtpushd {}", c.synopsis)
                          : fmt::format("txtpushd {}{}{}", c.name, c.synopsis.empty() ? "" : " ", c.synopsis);
}

std::string config_table() {
    std::string out = "| section | key | default | meaning |\n|---|---|---|---|\n";
    for (const ConfigKeyDoc& k : config_key_docs())
        out += fmt::format("| {} | `{}` | `{}` | {} |\n", k.section, k.name, md_escape(k.default_value),
                           md_escape(k.meaning));
    return out;
}

std::string commands_table() {
    std::string out = "| command | what it does |\n|---|---|\n";
    for (const CommandDoc& c : kCommands) out += fmt::format("| `{}` | {} |\n", md_escape(command_line(c)), md_escape(c.what));
    return out;
}

std::string signals_table() {
    std::string out = "| signal or event | effect |\n|---|---|\n";
    for (const SignalDoc& s : kSignals) out += fmt::format("| {} | {} |\n", s.signal, md_escape(s.effect));
    return out;
}

std::string exit_codes_table() {
    std::string out = "| exit code | meaning |\n|---|---|\n";
    for (const ExitCodeDoc& e : kExitCodes) out += fmt::format("| `{}` | {} |\n", e.code, e.meaning);
    return out;
}

std::string man_header(std::string_view name, int section, std::string_view version, std::string_view title) {
    return fmt::format(".TH {} {} \"\" \"txtpush {}\" \"{}\"\n", name, section, version, title);
}

std::string man_item(std::string_view tag, std::string_view text) {
    return fmt::format(".TP\n.B {}\n{}\n", roff(tag), roff(text));
}

std::string man8(std::string_view version) {
    std::string out = man_header("TXTPUSHD", 8, version, "System Administration");
    out += ".SH NAME\ntxtpushd \\- receive SMS gateway pushes (ConnectTxt) into Moodle's MoodleTxt tables\n";
    out += ".SH SYNOPSIS\n";
    for (const CommandDoc& c : kCommands) out += fmt::format(".B {}\n.br\n", roff(command_line(c)));
    out += ".B txtpushd \\-\\-version\n";
    out += ".SH DESCRIPTION\n"
           "txtpushd runs behind nginx as a pre-forked pool of FastCGI workers. A worker authenticates a push "
           "(form fields u and p), validates its XML (field x) against the push XSD, routes inbound SMS to "
           "inboxes and writes the rows in one transaction into Moodle's PostgreSQL database. When the "
           "database cannot take a push, it is spooled to disk and stored later; an answered push is never lost.\n"
           ".PP\nThe socket is the one systemd passes (txtpushd.socket, sd_listen_fds) or, without one, the "
           "one named by listen in txtpushd.conf(5). Without \\-c, every command reads "
           "/etc/txtpush/txtpushd.conf. Under systemd: systemctl start, stop and reload txtpushd (reload runs "
           "check\\-config first, then sends SIGHUP); txtpushd check after any change.\n";
    out += ".SH COMMANDS\n";
    for (const CommandDoc& c : kCommands) out += man_item(command_line(c), c.what);
    out += ".SH SIGNALS\n";
    for (const SignalDoc& s : kSignals) out += man_item(s.signal, s.effect);
    out += ".SH EXIT STATUS\n";
    for (const ExitCodeDoc& e : kExitCodes) out += man_item(std::to_string(e.code), e.meaning);
    out += ".SH HTTP ANSWERS\n";
    for (const FileDoc& a : kAnswers) out += man_item(a.path, a.what);
    out += ".SH LOGGING\n"
           "One logfmt line per event on stderr (ts in UTC, level, pid, event, fields): under systemd, "
           "journalctl \\-u txtpushd. Passwords never appear. The events an operator acts on:\n";
    for (const FileDoc& e : kLogEvents) out += man_item(e.path, e.what);
    out += ".SH ENVIRONMENT\n";
    for (const FileDoc& e : kEnvironment) out += man_item(e.path, e.what);
    out += ".SH FILES\n";
    for (const FileDoc& f : kFiles) out += man_item(f.path, f.what);
    out += ".SH UNDO\n"
           "In this order: systemctl disable \\-\\-now txtpushd.socket txtpushd; txtpushd uninstall as the owner "
           "of Moodle's tables (drops schema txtpush, nothing of Moodle's); remove the include lines of the nginx "
           "snippets and reload nginx; apt purge txtpush (removes the units' state, the configuration, the "
           "snippets and the quarantine; keeps a spool still holding pushes, and says so). The txtpush user "
           "stays: deluser \\-\\-system txtpush removes it.\n";
    out += ".SH SEE ALSO\n.BR txtpushd.conf (5),\n.BR nginx (8),\n.BR systemd.socket (5)\n";
    return out;
}

std::string man5(std::string_view version) {
    std::string out = man_header("TXTPUSHD.CONF", 5, version, "File Formats");
    out += ".SH NAME\ntxtpushd.conf \\- configuration of txtpushd(8)\n";
    out += ".SH DESCRIPTION\n"
           "One INI file, /etc/txtpush/txtpushd.conf unless txtpushd is given \\-c FILE. Lines starting with ; "
           "are comments. Unknown sections or keys, and a section or key given twice, are errors reported with "
           "their line (txtpushd check\\-config). Every key is optional: without [push] username and password, the "
           "push credentials are those saved in MoodleTxt's settings (Push_Username, Push_Password). SIGHUP reloads the file; a bad file is refused and the running pool keeps serving.\n";
    std::string_view section;
    for (const ConfigKeyDoc& k : config_key_docs()) {
        if (k.section != section) out += fmt::format(".SH [{}]\n", k.section);
        section = k.section;
        out += fmt::format(".TP\n.BR {} \" (default: {})\"\n{}\n", roff(k.name), roff(k.default_value), roff(k.meaning));
    }
    out += ".SH SEE ALSO\n.BR txtpushd (8)\n";
    return out;
}

}  // namespace

const std::vector<CommandDoc>& command_docs() { return kCommands; }

const CommandDoc& command_doc(std::string_view name) {
    for (const CommandDoc& c : kCommands)
        if (c.name == name) return c;
    throw std::logic_error("undocumented command");
}

std::vector<std::string_view> reference_names() {
    return {"config-table", "commands-table", "signals-table", "exit-codes-table", "man8", "man5"};
}

std::string reference(std::string_view what, std::string_view version) {
    if (what == "config-table") return config_table();
    if (what == "commands-table") return commands_table();
    if (what == "signals-table") return signals_table();
    if (what == "exit-codes-table") return exit_codes_table();
    if (what == "man8") return man8(version);
    if (what == "man5") return man5(version);
    return {};
}

}  // namespace txtpush
