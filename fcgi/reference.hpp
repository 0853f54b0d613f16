// What txtpushd documents of itself: commands, signals, exit codes, files and
// (from lib/config) every configuration key. The man pages txtpushd(8) and
// txtpushd.conf(5) and the tables of docs/operations.md are generated from
// these lists (`txtpushd reference ...`), and CI fails when the docs disagree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace txtpush {

struct CommandDoc {
    std::string_view name;      // "" for the service itself
    std::string_view synopsis;  // its arguments
    std::string_view what;
};

// Exit codes of every command.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,      // the work could not be done: database, migration, an invalid document
    kExitBadConfig = 2,   // the configuration file is unreadable or invalid
    kExitUsage = 64,      // the command line is wrong
};

const std::vector<CommandDoc>& command_docs();
const CommandDoc& command_doc(std::string_view name);

// `txtpushd reference WHAT`: config-table, commands-table, signals-table,
// exit-codes-table (Markdown), man8, man5 (roff). Empty for an unknown WHAT.
std::string reference(std::string_view what, std::string_view version);
std::vector<std::string_view> reference_names();

}  // namespace txtpush
