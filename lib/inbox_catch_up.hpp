// The inbox catch-up: how a push learns of the inbox rows MoodleTxt wrote
// itself, when Moodle's inbox can only be read by its primary key.
//
// The plugin's own inbound pull (its cron, or a page view with
// Get_Inbound_On_View) inserts inbox rows the gateway may push too. txtpush's
// write is gated by its ledger alone (inbound_ledger, keyed by ticket and
// user), so the plugin's rows must be in the ledger before a push naming them
// is written. Each reader (every worker, before a push's write; the spooler,
// every few seconds) keeps a cursor over the inbox's ids, and each catch-up
// puts the plugin's rows it finds in the ledger (origin 'moodle') in the
// statement that reads them (kInboxCatchUpSql).
//
// The cursor, one per process, in memory:
//   floor  every inbox id <= floor is in the ledger, or will never be a row
//          (drawn from the sequence and thrown away).
//   top    the highest id read; floor <= top.
//   gaps   the ids in (floor, top] no read has seen, as ranges of ids (a
//          sequence moved by hand may leave millions): a row not committed yet,
//          or an id drawn and never used (a rolled-back insert; a replay
//          whose ledger row conflicted). Every other id in (floor, top] was
//          seen, and so is in the ledger.
// A catch-up reads the ids above top and the gaps: its cost is the rows
// written since the last one, plus the gaps, whatever the age of the oldest
// transaction in the database.
//
// Invariants (tested in test/unit/inbox_catch_up_test.cpp, and against
// PostgreSQL in test/integration/inbox_catch_up_test.cpp):
//   1. floor never falls; floor = lowest gap - 1, or top when there is none.
//   2. A gap a read sees as a row stops being a gap: that read put it in
//      the ledger.
//   3. A gap is given up (an id never used) only when
//      a. it is older than the patience (30 s): a writer draws its id and
//         takes its transaction id in one INSERT (nextval takes none; the
//         first row written does), microseconds apart; after 30 s it has one;
//      b. and every transaction that had an id when (a) had passed has ended:
//         the reader then takes a transaction id of its own (mark(), one
//         statement, only for such gaps), newer than every id assigned, and a
//         later read whose snapshot xmin reaches it gives the gap up (a
//         snapshot's xmax is not enough: a transaction that took its id after
//         the last one completed runs at or above it, unnamed by the snapshot).
//      The one way to miss a row: a writer stalled for more than 30 s inside
//      one INSERT, between drawing its id and writing its row. Should the
//      gateway push that message again, it would be stored twice.
//   4. The shared watermark (inbox_watch, raised by the spooler to its own
//      floor) is a floor for every reader: a cursor below it moves up to it.
//   5. A process that starts takes the cursor the spooler published beside
//      the watermark as its own (adopt()): every id in (watermark, read_top]
//      outside its gaps was read by the spooler, in the statement that put
//      it in the ledger; the gaps start their patience again. Its first
//      catch-up then reads what was written since the spooler's last one,
//      not every row above a floor an open transaction holds back. A
//      published cursor that is not one (gaps unsorted, overlapping or
//      unparsable) gives the watermark only; its top is taken no higher
//      than the inbox's highest id. Ids the spooler gave up (3) stay given
//      up: invariant 3's one way to miss a row, shared.
//   6. The processes of one pool share a floor in memory (SharedInboxFloor,
//      the scoreboard's): each raises it to its own floor once a read has
//      committed, and takes it as a floor before its next read, as it does
//      the watermark (4). A push then reads what was written since the last
//      read by any worker, not since its own: with 8 workers each inbox row
//      was read by all 8. Ids any process gave up (3) are given up for all.
//      One pool generation reads one database: a database restored to an
//      older state, or a sequence set back, needs a reload (or a restart),
//      as every cursor does.
// Assumed of Moodle's inbox, as Moodle creates it: its id sequence hands out
// increasing ids one at a time (CACHE 1) and rows take their id from it; a
// row inserted with an explicit id below top, or after the sequence was set
// back, is not read.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace txtpush {

// The catch-up's common table expressions ($1 the cursor's top, $2 and $3 the
// first and last ids of its gaps, as array literals), ending in `inbox_read`: rows caught, the ids read (an
// array literal of each run of consecutive ids' first and last: its size
// follows the gaps, not the rows), the watermark, and the snapshot's xmin and xmax.
// Autocommitted before a push's write: it holds no locks with a push's, and
// no transaction id unless it found the plugin's rows.
extern const char* const kInboxCatchUpSql;

// What one catch-up read returns.
struct CatchUpRead {
    size_t caught = 0;          // the plugin's rows put in the ledger
    std::vector<int64_t> runs;  // the ids it saw: each run of consecutive ids as its first and last, ascending
    int64_t watermark = 0;
    int64_t xmin = 0, xmax = 0; // its snapshot's
};

// What the spooler publishes of its cursor (inbox_watch).
struct SharedCursor {
    int64_t watermark = 0, top = 0;
    std::vector<int64_t> gap_firsts, gap_lasts;  // ascending, disjoint ranges, or ignored
    bool well_formed = true;                     // both arrays parsed
};

// A floor the readers of one pool share (invariant 6): what each has
// reached, as invariant 1 defines it, of the same database.
class SharedInboxFloor {
public:
    virtual ~SharedInboxFloor() = default;
    virtual int64_t get() const = 0;          // 0 when none is known
    virtual void raise(int64_t floor) = 0;    // never lowers it
};

// "{1,2,3}" (PostgreSQL's array text) as numbers; an empty or malformed one
// gives none.
std::vector<int64_t> parse_id_array(std::string_view text);

class InboxCursor {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kPatience{30};

    explicit InboxCursor(std::chrono::milliseconds patience = kPatience) : patience_(patience) {}

    int64_t floor() const { return floor_; }
    int64_t top() const { return top_; }
    // How many ids the gaps hold.
    int64_t gap_ids() const;
    // The catch-up's parameters after top: the gaps' first and last ids, as
    // array literals.
    std::string gap_firsts() const;
    std::string gap_lasts() const;

    // Whether this cursor has neither read nor adopted anything yet.
    bool fresh() const { return !started_; }
    // 5: a fresh cursor takes the spooler's; a started one ignores it.
    void adopt(const SharedCursor& shared, Clock::time_point now = Clock::now());

    // 4 and 6: every id <= floor is known; the cursor moves up to it.
    void raise_floor(int64_t floor);

    // Takes what a catch-up read (made with this cursor's parameters) saw.
    void read(const CatchUpRead& r, Clock::time_point now = Clock::now());

    // Whether a gap past the patience waits for mark(): the caller then
    // takes a transaction id (pg_current_xact_id(), its own statement) and
    // gives it here.
    bool needs_mark() const;
    void mark(int64_t xact_id);

private:
    struct Gap {  // ids first..last, keyed by first
        int64_t last;
        Clock::time_point seen;
        std::optional<int64_t> xmax;  // a transaction id taken once the patience had passed
        bool patient = false;         // the patience had passed at the last read
    };
    void seen_as_rows(int64_t first, int64_t last);
    std::string gaps_literal(bool lasts) const;

    std::chrono::milliseconds patience_;
    int64_t floor_ = 0;
    int64_t top_ = 0;
    bool started_ = false;
    std::map<int64_t, Gap> gaps_;
};

}  // namespace txtpush
