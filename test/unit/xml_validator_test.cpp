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

TEST_F(XmlValidatorTest, NestingPastLibxml2sDepthLimitIsRefusedAndJustUnderIsTaken) {
    // Well-formed nesting inside an ignorable element, which may hold
    // anything: only the depth can refuse it. Response, Error and n levels.
    auto nested = [](int n) {
        std::string xml = "<Response><Error>";
        for (int i = 0; i < n; ++i) xml += "<a>";
        for (int i = 0; i < n; ++i) xml += "</a>";
        return xml + "</Error></Response>";
    };
    EXPECT_TRUE(parse(nested(255)).ok());
    Error over = refusal(nested(256));
    EXPECT_NE(over.reason.find("Excessive depth in document: 256"), std::string::npos) << over.reason;
    Error far = refusal(nested(100000));
    EXPECT_NE(far.reason.find("Excessive depth in document: 256"), std::string::npos) << far.reason;
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

namespace {

// `utf8` in UTF-16 (code points below U+10000), in either byte order.
std::string utf16(const std::string& utf8, bool big_endian, bool bom) {
    std::string out = bom ? (big_endian ? std::string("\xFE\xFF") : std::string("\xFF\xFE")) : std::string();
    for (size_t i = 0; i < utf8.size();) {
        auto c = static_cast<unsigned char>(utf8[i]);
        uint32_t cp = c;
        size_t n = 1;
        if (c >= 0xE0) cp = c & 0x0F, n = 3;
        else if (c >= 0xC0) cp = c & 0x1F, n = 2;
        for (size_t k = 1; k < n; ++k) cp = cp << 6 | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
        i += n;
        char hi = static_cast<char>(cp >> 8), lo = static_cast<char>(cp & 0xFF);
        out += big_endian ? std::string{hi, lo} : std::string{lo, hi};
    }
    return out;
}

const std::string kInbound =
    "<Response><InboundMessage><Ticket>7</Ticket><MessageText>Caf\u00e9 \u0127</MessageText>"
    "<Phone>+447700900123</Phone><Date>1</Date><Destination>8</Destination>"
    "<DestinationAccount>A</DestinationAccount></InboundMessage></Response>";

}  // namespace

TEST_F(XmlValidatorTest, EveryEncodingTheGatewayMightUseReadsTheSame) {
    const std::string decl8 = "<?xml version='1.0' encoding='UTF-8'?>";
    const std::string decl16 = "<?xml version='1.0' encoding='UTF-16'?>";
    std::string latin1 = "<?xml version='1.0' encoding='ISO-8859-1'?>" + kInbound;
    latin1.replace(latin1.find("Caf\u00e9 \u0127"), std::string("Caf\u00e9 \u0127").size(), "Caf\xE9 h");
    struct Case {
        const char* name;
        std::string bytes;
        std::string text;
    } cases[] = {
        {"UTF-8", kInbound, "Caf\u00e9 \u0127"},
        {"UTF-8 with BOM and declaration", "\xEF\xBB\xBF" + decl8 + kInbound, "Caf\u00e9 \u0127"},
        {"UTF-16LE with BOM", utf16(decl16 + kInbound, false, true), "Caf\u00e9 \u0127"},
        {"UTF-16BE with BOM", utf16(decl16 + kInbound, true, true), "Caf\u00e9 \u0127"},
        {"UTF-16LE without BOM", utf16(decl16 + kInbound, false, false), "Caf\u00e9 \u0127"},
        {"UTF-16BE without BOM", utf16(decl16 + kInbound, true, false), "Caf\u00e9 \u0127"},
        {"ISO-8859-1", latin1, "Caf\u00e9 h"},
    };
    for (const Case& c : cases) {
        auto doc = parse(c.bytes);
        ASSERT_TRUE(doc.ok()) << c.name << ": " << doc.error().reason;
        Push push = extract_push(**doc);
        ASSERT_EQ(push.inbound.size(), 1u) << c.name;
        EXPECT_EQ(push.inbound[0].text, c.text) << c.name;
        EXPECT_EQ(push.inbound[0].phone, "+447700900123") << c.name;
    }
}

TEST_F(XmlValidatorTest, EncodingsWhoseBytesTheGuardCannotReadAreRefusedByName) {
    // EBCDIC (IBM037) has no 0x3C byte for '<': a byte scan would see no element at all.
    std::string ebcdic = "\x4C\x6F\xA7\x94\x93\x40\xA5\x85\x99\xA2\x89\x96\x95\x7E\x7D\xF1\x4B\xF0\x7D";
    EXPECT_EQ(refusal(ebcdic).reason, "encoding EBCDIC is not accepted: send the push as UTF-8");
    EXPECT_EQ(refusal("<?xml version='1.0' encoding='IBM037'?><Response/>").reason,
              "encoding ibm037 is not accepted: send the push as UTF-8");
    EXPECT_EQ(refusal("<?xml version='1.0' encoding='Shift_JIS'?><Response/>").reason,
              "encoding shift_jis is not accepted: send the push as UTF-8");
    EXPECT_EQ(refusal(std::string("\xFF\xFE\x00\x00<\x00\x00\x00", 8)).reason,
              "encoding UTF-32 is not accepted: send the push as UTF-8");
    EXPECT_EQ(refusal(std::string("\xFF\xFE<\x00R", 5)).reason, "UTF-16 document with an odd number of bytes");
}

TEST_F(XmlValidatorTest, AMegabyteOfAttributesIsRefusedInUtf16Too) {
    // In UTF-16LE, U+0127 in a name is the bytes 27 01: a raw byte scan took
    // the 0x27 for a quote and counted nothing after it.
    std::string xml = "<Response><Error \u0127";
    for (int i = 0; xml.size() < 512 * 1024; ++i) xml += " a" + std::to_string(i) + "='1'";
    xml += "/></Response>";
    for (bool big_endian : {false, true}) {
        Error e = refusal(utf16(xml, big_endian, true));
        EXPECT_EQ(e.reason, "line 1: an element has more than 64 attributes") << big_endian;
    }
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
