#include <gtest/gtest.h>

#include "routing.hpp"

using namespace txtpush;

namespace {

InboundSms sms(int64_t ticket, std::string text, std::string phone, std::string account = "CollegeSMS") {
    return InboundSms{ticket, std::move(text), std::move(phone), 1764000000, "88020", std::move(account)};
}

RoutingData college() {
    RoutingData d;
    d.accounts = {{7, "CollegeSMS", 100, true, true}, {8, "Closed", 100, true, false}, {9, "NoDefault", 555, false, true}};
    d.filters = {{1, 7, true, "help", {101, 102}},
                 {2, 7, false, "07700 900555", {102, 103}},
                 {3, 8, true, "HELP", {104}}};
    d.senders = {{201, "Ada", "Lovelace", "+447700900201"}};
    d.contacts = {{301, "Glo", "Bal", "+447700900301", true, 0},
                  {302, "Pri", "Vate", "+447700900302", false, 101},
                  {303, "Other", "Book", "+447700900303", false, 999}};
    return d;
}

std::vector<int64_t> users_of(const Routed& r) {
    std::vector<int64_t> out;
    for (const auto& row : r.inbox) out.push_back(row.userid);
    return out;
}

}  // namespace

TEST(KeywordOf, FirstWordUpperCased) {
    EXPECT_EQ(keyword_of("  help me please"), "HELP");
    EXPECT_EQ(keyword_of("Absent\ttoday"), "ABSENT");
    EXPECT_EQ(keyword_of("   "), "");
}

TEST(Route, KeywordInAnyCaseRoutesToFilterUsers) {
    std::vector<InboundSms> in = {sms(1, "HeLp me", "+447700900999")};
    auto r = route(in, college(), RoutingSettings{});
    EXPECT_EQ(users_of(r), (std::vector<int64_t>{101, 102}));
}

TEST(Route, PhoneFilterMatchesAcrossNotationsAndUnionsWithKeyword) {
    std::vector<InboundSms> in = {sms(1, "help", "+44 7700 900555")};
    auto r = route(in, college(), RoutingSettings{});
    EXPECT_EQ(users_of(r), (std::vector<int64_t>{101, 102, 103}));
}

TEST(Route, NoMatchGoesToTheDefaultUser) {
    std::vector<InboundSms> in = {sms(1, "hello", "+447700900999")};
    auto r = route(in, college(), RoutingSettings{});
    EXPECT_EQ(users_of(r), (std::vector<int64_t>{100}));
    EXPECT_EQ(r.inbox[0].firstname, "Unknown");
    EXPECT_EQ(r.inbox[0].lastname, "Unknown");  // MoodleTxt writes its placeholder into both
    EXPECT_FALSE(r.inbox[0].sender_user.has_value());
    EXPECT_FALSE(r.inbox[0].contact.has_value());
}

TEST(Route, AccountMatchedCaseInsensitively) {
    std::vector<InboundSms> in = {sms(1, "hello", "+447700900999", "collegesms")};
    EXPECT_EQ(users_of(route(in, college(), RoutingSettings{})), (std::vector<int64_t>{100}));
}

TEST(Route, UnroutableMessagesAreKeptWithAReason) {
    std::vector<InboundSms> in = {sms(1, "help", "+447700900999", "Nobody"), sms(2, "help", "+447700900999", "Closed"),
                                  sms(3, "help", "+447700900999", "NoDefault")};
    auto r = route(in, college(), RoutingSettings{});
    EXPECT_TRUE(r.inbox.empty());
    ASSERT_EQ(r.unrouted.size(), 3u);
    EXPECT_EQ(r.unrouted[0].reason, "unknown account");
    EXPECT_EQ(r.unrouted[1].reason, "inbound disabled for account");
    EXPECT_EQ(r.unrouted[2].reason, "default user does not exist");
    EXPECT_EQ(r.unrouted[0].source, "+447700900999");
}

TEST(Route, SenderIsAMoodleUserFirst) {
    std::vector<InboundSms> in = {sms(1, "hi", "07700 900201")};
    auto r = route(in, college(), RoutingSettings{});
    ASSERT_EQ(r.inbox.size(), 1u);
    EXPECT_EQ(r.inbox[0].source, "07700900201");  // + and digits, as the block; the canonical form only matches
    EXPECT_EQ(r.inbox[0].firstname, "Ada");
    EXPECT_EQ(r.inbox[0].lastname, "Lovelace");
    EXPECT_EQ(r.inbox[0].sender_user, 201);
    EXPECT_FALSE(r.inbox[0].contact.has_value());
}

TEST(Route, ContactsInGlobalOrReceiversBooksOnly) {
    RoutingData d = college();
    std::vector<InboundSms> in = {sms(1, "hi", "+447700900301"), sms(2, "help", "+447700900302"),
                                  sms(3, "hi", "+447700900302"), sms(4, "hi", "+447700900303")};
    auto r = route(in, d, RoutingSettings{});
    ASSERT_EQ(r.inbox.size(), 1u + 2u + 1u + 1u);
    EXPECT_EQ(r.inbox[0].contact, 301);  // global book
    EXPECT_EQ(r.inbox[1].contact, 302);  // private book of receiver 101
    EXPECT_EQ(r.inbox[2].contact, 302);
    EXPECT_FALSE(r.inbox[3].contact.has_value());  // default user 100 does not own it
    EXPECT_FALSE(r.inbox[4].contact.has_value());  // someone else's private book
    EXPECT_EQ(r.inbox[4].firstname, "Unknown");
}

TEST(Route, ImplausibleNumbersAreKeptAndCounted) {
    std::vector<InboundSms> in = {sms(1, "hi", "+999 12345")};  // the block's rule holds, libphonenumber's not
    auto r = route(in, college(), RoutingSettings{});
    ASSERT_EQ(r.inbox.size(), 1u);
    EXPECT_EQ(r.inbox[0].source, "+99912345");
    ASSERT_EQ(r.implausible.size(), 1u);
    EXPECT_EQ(r.implausible[0]->ticket, 1);
}

TEST(Route, ASenderThatIsNotAPhoneNumberNeverReachesAnInbox) {
    std::vector<InboundSms> in = {sms(1, "hi", "ACMEPOST"), sms(2, "help", "  Acme Post Ltd  "),
                                  sms(3, "hi", "+447700900201")};
    auto r = route(in, college(), RoutingSettings{});
    ASSERT_EQ(r.inbox.size(), 1u);
    EXPECT_EQ(r.inbox[0].ticket, 3);
    ASSERT_EQ(r.unrouted.size(), 2u);
    for (const UnroutedRow& u : r.unrouted) EXPECT_EQ(u.reason, "sender_not_a_number");
    EXPECT_EQ(r.unrouted[0].source, "ACMEPOST");        // kept whole, as received
    EXPECT_EQ(r.unrouted[1].source, "Acme Post Ltd");
}

TEST(Route, RepeatedMessageInOnePushYieldsOneRowPerUser) {
    std::vector<InboundSms> in = {sms(1, "help", "+447700900999"), sms(1, "help", "+447700900999")};
    EXPECT_EQ(users_of(route(in, college(), RoutingSettings{})), (std::vector<int64_t>{101, 102}));
}
