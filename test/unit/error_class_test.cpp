// Which database errors keep a push for later (spool) and which refuse it.
#include <gtest/gtest.h>

#include "push_store.hpp"

using namespace txtpush;

TEST(ErrorClasses, OnlyDataAndIntegrityErrorsArePermanent) {
    // Transient: the same push may be stored later, so it is spooled.
    for (const char* state : {"08006", "08001", "53100", "53200", "53300", "57014", "57P01", "55P03", "40001", "40P01",
                              "25006", "58030", "XX000"})
        EXPECT_EQ(classify_sqlstate(state), ErrorKind::transient) << state;
    // Misconfigured: a table, column, function or schema txtpush was migrated
    // for is missing, a right or the login refused, a statement that does not
    // parse (a bad table_prefix); answered 503, never spooled.
    for (const char* state : {"42P01", "42703", "42883", "3F000", "42501", "42601", "28P01", "28000", "3D000"})
        EXPECT_EQ(classify_sqlstate(state), ErrorKind::misconfigured) << state;
    // Permanent: these values will never be stored as they are.
    for (const char* state : {"22001", "22003", "22P02", "23505", "23514", "23502"})
        EXPECT_EQ(classify_sqlstate(state), ErrorKind::permanent) << state;
}
