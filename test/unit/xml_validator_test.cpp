#include <gtest/gtest.h>

#include <filesystem>

#include "push_document.hpp"
#include "test_support.hpp"
#include "xml_validator.hpp"

using namespace txtpush;
using txtpush::test::fixture;

class XmlValidatorTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { harden_libxml2(); }
    void SetUp() override {
        auto v = PushValidator::compile_builtin();
        ASSERT_TRUE(v.ok()) << v.error().reason;
        validator_.emplace(std::move(*v));
    }
    Result<XmlDocPtr> parse(const std::string& xml) { return validator_->parse(xml); }
    Error refusal(const std::string& xml) {
        auto r = parse(xml);
        EXPECT_FALSE(r.ok()) << xml;
        return r.ok() ? Error{} : r.error();
    }
    std::optional<PushValidator> validator_;
};

static std::vector<std::string> fixtures_in(const std::string& folder) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(std::string(TXTPUSH_FIXTURES_DIR) + "/" + folder))
        names.push_back(folder + "/" + e.path().filename().string());
    return names;
}

TEST_F(XmlValidatorTest, AcceptsEveryValidFixture) {
    auto names = fixtures_in("valid");
    ASSERT_GE(names.size(), 8u);
    for (const auto& name : names) {
        auto r = parse(fixture(name));
        EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().reason);
    }
}

TEST_F(XmlValidatorTest, RefusesEveryInvalidFixtureWithALine) {
    auto names = fixtures_in("invalid");
    ASSERT_GE(names.size(), 10u);
    for (const auto& name : names) {
        auto r = parse(fixture(name));
        ASSERT_FALSE(r.ok()) << name;
        EXPECT_EQ(r.error().kind, ErrorKind::bad_input) << name;
        EXPECT_EQ(r.error().reason.rfind("line ", 0), 0u) << name << ": " << r.error().reason;
    }
}

TEST_F(XmlValidatorTest, ReportsTheFirstProblem) {
    auto e = refusal("<Response>\n<MessageStatus><Ticket>1</Ticket><Status>7</Status>"
                     "<StatusMessage>x</StatusMessage></MessageStatus>\n</Response>");
    EXPECT_NE(e.reason.find("line 2"), std::string::npos) << e.reason;
    EXPECT_NE(e.reason.find("Status"), std::string::npos) << e.reason;
}

TEST_F(XmlValidatorTest, DoctypeIsRefusedBeforeAnyEntityIsRead) {
    auto e = refusal(fixture("invalid/xxe-file.xml"));
    EXPECT_NE(e.reason.find("DOCTYPE"), std::string::npos);
    EXPECT_EQ(e.reason.find("root:"), std::string::npos);  // /etc/passwd never read
    e = refusal("<!DOCTYPE Response SYSTEM \"http://127.0.0.1:1/x.dtd\"><Response/>");
    EXPECT_NE(e.reason.find("DOCTYPE"), std::string::npos);
}

TEST_F(XmlValidatorTest, ChildrenInAnyOrderWithPaddedValues) {
    auto r = parse("<Response><MessageStatus><StatusMessage>\n  <![CDATA[ok]]>\n</StatusMessage>"
                   "<Status>\n 5 \n</Status><Ticket> 42 </Ticket></MessageStatus></Response>");
    ASSERT_TRUE(r.ok()) << r.error().reason;
}

TEST_F(XmlValidatorTest, RefusesRangeAndShapeErrors) {
    const char* bad[] = {
        "<Response><MessageStatus><Ticket>0</Ticket><Status>1</Status><StatusMessage>x</StatusMessage>"
        "</MessageStatus></Response>",
        "<Response><MessageStatus><Ticket>12345678901</Ticket><Status>1</Status><StatusMessage>x</StatusMessage>"
        "</MessageStatus></Response>",
        "<Response><MessageStatus><Ticket>1</Ticket><Status>-2</Status><StatusMessage>x</StatusMessage>"
        "</MessageStatus></Response>",
        "<Response><MessageStatus><Ticket>1</Ticket><Ticket>2</Ticket><Status>1</Status>"
        "<StatusMessage>x</StatusMessage></MessageStatus></Response>",
        "<Response><InboundMessage><Ticket>1</Ticket><MessageText>x</MessageText><Phone>+1</Phone>"
        "<Date>-5</Date><Destination>1</Destination><DestinationAccount>a</DestinationAccount>"
        "</InboundMessage></Response>",
        "<Response><InboundMessage><Ticket>1</Ticket><MessageText>x</MessageText><Phone>+1</Phone>"
        "<Date>5</Date><Destination>1</Destination><DestinationAccount>  </DestinationAccount>"
        "</InboundMessage></Response>",
        "<response/>",
        "",
    };
    for (const char* xml : bad) refusal(xml);
    auto e = refusal(std::string("<Response>\0</Response>", 22));
    EXPECT_EQ(e.kind, ErrorKind::bad_input);
}

TEST_F(XmlValidatorTest, DeepNestingIsRefusedCheaply) {
    std::string xml = "<Response><Error>";
    for (int i = 0; i < 100000; ++i) xml += "<a>";
    refusal(xml);
}

TEST_F(XmlValidatorTest, AMegabyteOfAttributesIsRefusedBeforeParsing) {
    // libxml2 checks duplicate attributes in O(n^2): this took seconds.
    std::string xml = "<Response><Error";
    for (int i = 0; xml.size() < 1024 * 1024; ++i) xml += " a" + std::to_string(i) + "='1'";
    xml += "/></Response>";
    Error e = refusal(xml);
    EXPECT_EQ(e.kind, ErrorKind::bad_input);
    EXPECT_EQ(e.reason, "line 1: an element has more than 64 attributes");
}

TEST_F(XmlValidatorTest, AttributesWithinTheBoundAndLookalikesInTextAreFine) {
    std::string attrs;
    for (int i = 0; i < 64; ++i) attrs += " a" + std::to_string(i) + "=\"x>y=z\"";
    std::string equals(200, '=');
    EXPECT_TRUE(parse("<Response><Error" + attrs + "/><!-- " + equals + " --><InboxCounts><![CDATA[<a " + equals +
                      ">]]></InboxCounts></Response>")
                    .ok());
}

TEST_F(XmlValidatorTest, ValidatorIsReusable) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(parse("<Response><X/></Response>").ok());
        EXPECT_TRUE(parse("<Response/>").ok());
    }
}

TEST(ExtractPush, ReadsTypedTrimmedRecords) {
    harden_libxml2();
    auto v = PushValidator::compile_builtin();
    ASSERT_TRUE(v.ok());
    auto doc = v->parse(fixture("valid/mixed-doc-example.xml"));
    ASSERT_TRUE(doc.ok());
    Push p = extract_push(**doc);
    ASSERT_EQ(p.statuses.size(), 1u);
    ASSERT_EQ(p.inbound.size(), 1u);
    EXPECT_EQ(p.statuses[0].ticket, 123);
    EXPECT_EQ(p.statuses[0].status, 5);
    EXPECT_EQ(p.statuses[0].message, "Delivered To Handset");
    EXPECT_EQ(p.statuses[0].phone, "+441234567890");
    const InboundSms& m = p.inbound[0];
    EXPECT_EQ(m.ticket, 1278);
    EXPECT_EQ(m.text, "Example");
    EXPECT_EQ(m.phone, "+4471234567890");
    EXPECT_EQ(m.date, 1234567890);
    EXPECT_EQ(m.destination, "+449876543210");
    EXPECT_EQ(m.account, "GregJPreece");
    EXPECT_EQ(p.ignored, 0);
}

TEST(ExtractPush, CountsIgnoredExtrasAndKeepsUnicode) {
    harden_libxml2();
    auto v = PushValidator::compile_builtin();
    ASSERT_TRUE(v.ok());
    auto extras = v->parse(fixture("valid/ignored-extras.xml"));
    ASSERT_TRUE(extras.ok());
    EXPECT_EQ(extract_push(**extras).ignored, 2);
    auto unicode = v->parse(fixture("valid/unicode-text.xml"));
    ASSERT_TRUE(unicode.ok());
    EXPECT_EQ(extract_push(**unicode).inbound.at(0).text,
              "Caf\u00e9 \u2615 \u2014 na\u00efve \u65e5\u672c\u8a9e \U0001F642 <not a tag> & ampersand");
    auto batch = v->parse(fixture("valid/batch-50-mixed.xml"));
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(extract_push(**batch).items(), 50u);
}
