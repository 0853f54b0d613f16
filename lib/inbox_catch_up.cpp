#include "inbox_catch_up.hpp"

#include <charconv>

namespace txtpush {

// Rows above the cursor's top (or the shared watermark, if higher) and in
// the cursor's gaps, read by primary key (a range scan each); those not in the ledger by id are the
// plugin's and go into it. `seen` is read once: the ids returned are those
// the insert looked at, in the same snapshot.
const char* const kInboxCatchUpSql = R"(
watch AS (
    SELECT coalesce((SELECT watermark FROM {schema}.inbox_watch), 0) AS watermark
), seen AS MATERIALIZED (
    SELECT id, ticket, userid, timereceived FROM {prefix}block_moodletxt_inbox
    WHERE id > greatest($1::bigint, (SELECT watermark FROM watch))
    UNION ALL
    SELECT i.id, i.ticket, i.userid, i.timereceived
    FROM unnest($2::text::bigint[], $3::text::bigint[]) AS g (first, last)
    JOIN {prefix}block_moodletxt_inbox i ON i.id BETWEEN g.first AND g.last
), caught AS (
    INSERT INTO {schema}.inbound_ledger (ticket, userid, received_at, origin, inboxid)
    -- The plugin's values are not ours to trust: a time that is not Unix
    -- seconds (one in microseconds would make to_timestamp fail, and with it
    -- every push) reads as the time the row was caught.
    SELECT ticket, userid,
           CASE WHEN timereceived BETWEEN 0 AND 32503680000 THEN to_timestamp(timereceived) ELSE now() END,
           'moodle', id
    FROM seen s
    -- A probe of the ledger's inboxid index per row read, whatever the plan
    -- believes: a generic plan takes a third of the inbox to be above the
    -- cursor, and as an anti-join it hashed the whole ledger (600 ms a push).
    WHERE (SELECT true FROM {schema}.inbound_ledger l WHERE l.inboxid = s.id LIMIT 1) IS NULL
    ORDER BY ticket, userid
    ON CONFLICT DO NOTHING
    RETURNING 1
), runs AS (  -- the ids seen as runs of consecutive ids: a few, however many rows
    SELECT min(id) AS first, max(id) AS last
    FROM (SELECT id, id - row_number() OVER (ORDER BY id) AS run FROM (SELECT DISTINCT id FROM seen) d) s
    GROUP BY run
), inbox_read AS (
    SELECT (SELECT count(*) FROM caught) AS caught,
           (SELECT coalesce(array_agg(v ORDER BY first, v), '{}')
            FROM runs CROSS JOIN LATERAL (VALUES (first), (last)) AS r (v))::text AS runs,
           (SELECT watermark FROM watch) AS watermark,
           pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
           pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
))";

std::vector<int64_t> parse_id_array(std::string_view text) {
    std::vector<int64_t> out;
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
    const char* p = text.data() + 1;
    const char* end = text.data() + text.size() - 1;
    while (p < end) {
        int64_t id = 0;
        auto [next, ec] = std::from_chars(p, end, id);
        if (ec != std::errc()) return {};
        out.push_back(id);
        p = next < end && *next == ',' ? next + 1 : next;
        if (p == next && p < end) return {};  // neither a number nor a comma
    }
    return out;
}

int64_t InboxCursor::gap_ids() const {
    int64_t n = 0;
    for (const auto& [first, gap] : gaps_) n += gap.last - first + 1;
    return n;
}

std::string InboxCursor::gap_firsts() const { return gaps_literal(false); }
std::string InboxCursor::gap_lasts() const { return gaps_literal(true); }

std::string InboxCursor::gaps_literal(bool lasts) const {
    std::string out = "{";
    for (const auto& [first, gap] : gaps_) {
        if (out.size() > 1) out += ',';
        out += std::to_string(lasts ? gap.last : first);
    }
    return out + "}";
}

void InboxCursor::seen_as_rows(int64_t a, int64_t b) {
    auto it = gaps_.upper_bound(a);
    if (it != gaps_.begin() && std::prev(it)->second.last >= a) --it;
    while (it != gaps_.end() && it->first <= b) {
        int64_t first = it->first;
        Gap gap = it->second;
        it = gaps_.erase(it);
        if (first < a) gaps_.emplace(first, Gap{a - 1, gap.seen, gap.xmax, gap.patient});
        if (b < gap.last) gaps_.emplace(b + 1, gap);
    }
}

namespace {

// Gaps as the spooler writes them: ascending, disjoint, each first <= last.
bool well_formed_gaps(const SharedCursor& c) {
    if (!c.well_formed || c.gap_firsts.size() != c.gap_lasts.size()) return false;
    for (size_t i = 0; i < c.gap_firsts.size(); ++i) {
        if (c.gap_firsts[i] > c.gap_lasts[i]) return false;
        if (i > 0 && c.gap_firsts[i] <= c.gap_lasts[i - 1]) return false;
    }
    return true;
}

}  // namespace

void InboxCursor::adopt(const SharedCursor& shared, Clock::time_point now) {
    if (started_) return;
    started_ = true;
    floor_ = shared.watermark;
    top_ = well_formed_gaps(shared) ? std::max(shared.watermark, shared.top) : floor_;  // else the floor only
    for (size_t i = 0; top_ > floor_ && i < shared.gap_firsts.size(); ++i) {
        int64_t first = std::max(shared.gap_firsts[i], floor_ + 1), last = std::min(shared.gap_lasts[i], top_);
        if (first <= last) gaps_.emplace(first, Gap{last, now, std::nullopt});
    }
    floor_ = gaps_.empty() ? top_ : gaps_.begin()->first - 1;  // 1
}

void InboxCursor::raise_floor(int64_t floor) {
    if (floor > top_) top_ = floor;
    while (!gaps_.empty() && gaps_.begin()->first <= floor) {
        auto first = gaps_.begin();
        Gap gap = first->second;
        gaps_.erase(first);
        if (gap.last > floor) gaps_.emplace(floor + 1, gap);
    }
    floor_ = std::max(floor_, gaps_.empty() ? top_ : gaps_.begin()->first - 1);  // 1
}

void InboxCursor::read(const CatchUpRead& r, Clock::time_point now) {
    started_ = true;
    raise_floor(r.watermark);  // 4: the shared watermark is a floor for every reader
    // 2: a gap seen is in the ledger; ids above top leave gaps between them.
    int64_t next = top_ + 1;
    for (size_t i = 0; r.runs.size() % 2 == 0 && i < r.runs.size(); i += 2) {
        int64_t first = r.runs[i], last = r.runs[i + 1];
        if (first <= top_) seen_as_rows(first, std::min(last, top_));
        if (last <= top_) continue;
        first = std::max(first, top_ + 1);
        if (next < first) gaps_.emplace(next, Gap{first - 1, now, std::nullopt});
        next = last + 1;
    }
    top_ = std::max(top_, next - 1);
    // 3: given up once patient enough and every transaction of that time ended.
    for (auto it = gaps_.begin(); it != gaps_.end();) {
        Gap& gap = it->second;
        if (gap.xmax && r.xmin >= *gap.xmax) {
            it = gaps_.erase(it);
            continue;
        }
        ++it;
    }
    for (auto& [first, gap] : gaps_) gap.patient = now - gap.seen >= patience_;
    // 1.
    int64_t floor = gaps_.empty() ? top_ : gaps_.begin()->first - 1;
    floor_ = std::max(floor_, floor);
}

bool InboxCursor::needs_mark() const {
    for (const auto& [first, gap] : gaps_)
        if (gap.patient && !gap.xmax) return true;
    return false;
}

void InboxCursor::mark(int64_t xact_id) {
    // Only the gaps past the patience: a younger one's writer may not have
    // its transaction id yet.
    for (auto& [first, gap] : gaps_)
        if (gap.patient && !gap.xmax) gap.xmax = xact_id;
}

}  // namespace txtpush
