// Every branch of handle_push (lib/push_handler.cpp), with fakes for the
// database, the spool and the quarantine: the HTTP status, the outcome
// counted, what went where, and what never happened.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "push_document.hpp"
#include "push_handler.hpp"
#include "test_support.hpp"

using namespace txtpush;
using namespace std::chrono_literals;

namespace {

struct FakeStore : PushSink {
    std::optional<Error> fails;  // the error it answers, or stores
    int calls = 0;
    Push last;
    std::string request_id;
    Deadline deadline;
    Result<StoreReport> store(const Push& push, int64_t, std::string_view id, Deadline d) override {
        ++calls;
        last = push;
        request_id = id;
        deadline = d;
        if (fails) return *fails;
        StoreReport r;
        r.statuses = r.statuses_new = push.statuses.size();
        return r;
    }
};

struct FakeSpool : SpoolSink {
    bool full = false;
    std::vector<std::string> kept;
    Result<std::string> put(std::string_view xml, int64_t, std::string_view) override {
        if (full) return fail(ErrorKind::local_io, "spool full");
        kept.emplace_back(xml);
        return std::string("sp-1");
    }
};

struct FakeQuarantine : RefusedSink {
    std::vector<std::string> reasons;
    void keep(std::string_view, std::string_view reason, std::string_view, std::string_view) override {
        reasons.emplace_back(reason);
    }
};

struct FakeCredentials : CredentialSource {
    std::optional<Error> fails;
    Result<Credentials> current(Deadline) override {
        if (fails) return *fails;
        return Credentials::from_plain("gateway", "secret");
    }
    std::string_view origin() const override { return "test"; }
};

class Handler : public ::testing::Test {
protected:
    Handler() {
        auto compiled = PushValidator::compile_builtin();
        validator_.emplace(std::move(*compiled));
    }
    Response post(const std::string& body, std::string_view method = "POST",
                  std::string_view type = "application/x-www-form-urlencoded") {
        PushHandler handler(config_, credentials_, *validator_, store_, spool_, quarantine_, log_,
                            [] { return int64_t{1764000000}; }, [this](Phase p) { phases_.push_back(p); });
        Request r{method, type, body, false, "10.0.0.1", "req-7", arrived_};
        return handler.handle_push(r);
    }
    Response push(const std::string& xml, const std::string& password = "secret") {
        return post(test::push_body("gateway", password, xml));
    }
    std::string status_xml() const { return test::fixture("valid/status-single.xml"); }

    Config config_;
    FakeCredentials credentials_;
    std::optional<PushValidator> validator_;
    FakeStore store_;
    FakeSpool spool_;
    FakeQuarantine quarantine_;
    Log log_{LogLevel::error};
    std::vector<Phase> phases_;
    std::chrono::steady_clock::time_point arrived_ = std::chrono::steady_clock::now();
};

}  // namespace

TEST_F(Handler, AValidPushIsStoredAnd200SaysWhatWasTaken) {
    Response r = push(status_xml());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.outcome, Outcome::stored);
    EXPECT_EQ(store_.calls, 1);
    EXPECT_EQ(store_.request_id, "req-7");
    EXPECT_EQ(store_.last.statuses.size(), 1u);
    EXPECT_NE(r.body.find("statuses=1 statuses_new=1"), std::string::npos) << r.body;
    EXPECT_EQ(phases_, (std::vector<Phase>{Phase::decoding, Phase::authenticating, Phase::validating, Phase::storing}));
    EXPECT_TRUE(spool_.kept.empty());
    EXPECT_TRUE(quarantine_.reasons.empty());
}

TEST_F(Handler, TheStoreGetsTheRequestsDeadlineHalfASecondBeforeTheTimeout) {
    config_.request_timeout = 10;
    push(status_xml());
    ASSERT_TRUE(store_.deadline.has_value());
    EXPECT_EQ(*store_.deadline, arrived_ + 10s - 500ms);
    config_.request_timeout = 0;
    push(status_xml());
    EXPECT_FALSE(store_.deadline.has_value());
}

TEST_F(Handler, WhatIsNotAFormPostIsRefusedBeforeAnythingIsRead) {
    Response get = post("", "GET");
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(get.outcome, Outcome::method);
    EXPECT_EQ(get.headers, (std::vector<std::pair<std::string, std::string>>{{"Allow", "POST"}}));
    Response json = post("{}", "POST", "application/json");
    EXPECT_EQ(json.status, 400);
    EXPECT_EQ(json.outcome, Outcome::content_type);
    PushHandler handler(config_, credentials_, *validator_, store_, spool_, quarantine_, log_, [] { return int64_t{0}; });
    Request big{"POST", "application/x-www-form-urlencoded", "", true, "", "", {}};
    Response large = handler.handle_push(big);
    EXPECT_EQ(large.status, 413);
    EXPECT_EQ(large.outcome, Outcome::too_large);
    EXPECT_EQ(store_.calls, 0);
    EXPECT_TRUE(phases_.empty());
}

TEST_F(Handler, AFormWithoutTheXmlFieldIs400) {
    Response r = post("u=gateway&p=secret");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.outcome, Outcome::form);
    EXPECT_EQ(store_.calls, 0);
}

TEST_F(Handler, AWrongPasswordIs403AndNothingIsStoredOrKept) {
    Response r = push(status_xml(), "guess");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.outcome, Outcome::auth);
    EXPECT_EQ(r.body.find("guess"), std::string::npos);
    EXPECT_EQ(store_.calls, 0);
    EXPECT_TRUE(quarantine_.reasons.empty());  // an unauthenticated body is nobody's to keep
}

TEST_F(Handler, CredentialsThatCannotBeReadDecideTheAnswerByWhatHappened) {
    credentials_.fails = fail(ErrorKind::forbidden, "push is not enabled in MoodleTxt");
    Response off = push(status_xml());
    EXPECT_EQ(off.status, 403);
    EXPECT_EQ(off.outcome, Outcome::disabled);
    credentials_.fails = fail(ErrorKind::transient, "database unavailable");
    Response down = push(status_xml());
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.outcome, Outcome::unavailable);
    credentials_.fails = fail(ErrorKind::misconfigured, "no function txtpush.moodletxt_settings()");
    Response wrong = push(status_xml());
    EXPECT_EQ(wrong.status, 503);
    EXPECT_EQ(wrong.outcome, Outcome::misconfigured);
    EXPECT_EQ(store_.calls, 0);
    EXPECT_TRUE(spool_.kept.empty());  // not authenticated: never spooled
}

TEST_F(Handler, AnInvalidDocumentIs400AndKeptInTheQuarantine) {
    Response r = push(test::fixture("invalid/wrong-root.xml"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.outcome, Outcome::invalid_xml);
    EXPECT_EQ(quarantine_.reasons.size(), 1u);
    EXPECT_EQ(store_.calls, 0);
}

TEST_F(Handler, ADatabaseThatCannotTakeThePushNowGetsItSpooledAnd202) {
    for (ErrorKind kind : {ErrorKind::transient, ErrorKind::bug}) {
        store_.fails = fail(kind, "database unavailable");
        spool_.kept.clear();
        phases_.clear();
        Response r = push(status_xml());
        EXPECT_EQ(r.status, 202) << error_kind_name(kind);
        EXPECT_EQ(r.outcome, Outcome::spooled);
        ASSERT_EQ(spool_.kept.size(), 1u);
        EXPECT_EQ(spool_.kept[0], status_xml());
        EXPECT_EQ(phases_.back(), Phase::spooling);
    }
    EXPECT_TRUE(quarantine_.reasons.empty());
}

TEST_F(Handler, WhenNotEvenTheSpoolCanTakeItTheAnswerIs503) {
    store_.fails = fail(ErrorKind::transient, "database unavailable");
    spool_.full = true;
    Response r = push(status_xml());
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.outcome, Outcome::spool_failed);
    EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{{"Retry-After", "30"}}));
}

TEST_F(Handler, AMisconfiguredDatabaseIs503AndThePushIsNeitherSpooledNorKept) {
    store_.fails = fail(ErrorKind::misconfigured, "table mdl_block_moodletxt_status is missing");
    Response r = push(status_xml());
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.outcome, Outcome::misconfigured);
    EXPECT_NE(r.body.find("mdl_block_moodletxt_status"), std::string::npos);
    EXPECT_TRUE(spool_.kept.empty());
    EXPECT_TRUE(quarantine_.reasons.empty());
}

TEST_F(Handler, ValuesTheDatabaseRefusesAre500AndThePushIsKept) {
    store_.fails = fail(ErrorKind::permanent, "database error 22001 while storing the push");
    Response r = push(status_xml());
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.outcome, Outcome::store_failed);
    EXPECT_EQ(quarantine_.reasons, std::vector<std::string>{"database error 22001 while storing the push"});
    EXPECT_TRUE(spool_.kept.empty());
}
