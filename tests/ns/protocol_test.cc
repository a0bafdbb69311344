#include "ns/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chiron::ns {
namespace {

using Args = std::vector<std::string>;

class ProtocolTest : public ::testing::Test {
 protected:
  Reply run(Args args) { return execute(registry_, args); }
  void ok(Args args) {
    Reply r = run(args);
    ASSERT_EQ(r.kind, Reply::Kind::kSimple) << r.text;
    ASSERT_EQ(r.text, "OK");
  }
  // REG, then the first heartbeat that proves the server up (new servers are pending).
  void up(Args args) {
    ok(args);
    ok({"HB", args[1], args[2]});
  }
  std::string error(Args args) {
    Reply r = run(std::move(args));
    EXPECT_EQ(r.kind, Reply::Kind::kError);
    return r.text;
  }
  std::string req(std::string service = "web") {
    Reply r = run({"REQ", service});
    EXPECT_EQ(r.kind, Reply::Kind::kBulk) << r.text;
    return r.text;
  }

  ManualClock clock_;
  Registry registry_{clock_};
};

TEST_F(ProtocolTest, PingAnswersPong) {
  EXPECT_EQ(run({"PING"}).text, "PONG");
  EXPECT_EQ(run({"ping", "hi"}).kind, Reply::Kind::kBulk);
}

TEST_F(ProtocolTest, CommandAndCommandDocsAnswerEmptyArray) {
  for (Args a : {Args{"COMMAND"}, Args{"command", "DOCS"}}) {
    Reply r = run(a);
    EXPECT_EQ(r.kind, Reply::Kind::kArray);
    EXPECT_TRUE(r.items.empty());
  }
}

TEST_F(ProtocolTest, RegThenReqAlternatesRoundRobin) {
  up({"REG", "web", "10.0.0.1:80"});
  up({"reg", "web", "10.0.0.2:80"});
  std::string a = req(), b = req();
  EXPECT_NE(a, b);
  EXPECT_EQ(req(), a);
  EXPECT_EQ(req(), b);
}

TEST_F(ProtocolTest, SwrrWeights511GiveNginxSequence) {
  up({"REG", "web", "10.0.0.1:80", "5"});
  up({"REG", "web", "10.0.0.2:80", "1"});
  up({"REG", "web", "10.0.0.3:80", "1"});
  ok({"ALG", "web", "SWRR"});
  std::string seq;
  for (int i = 0; i < 7; ++i) seq += req().substr(7, 1);
  EXPECT_EQ(seq, "1121311");
}

TEST_F(ProtocolTest, ReRegUpdatesWeight) {
  up({"REG", "web", "10.0.0.1:80", "2"});
  up({"REG", "web", "10.0.0.1:80", "9"});
  Reply r = run({"LIST", "web"});
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0], "10.0.0.1:80 weight=9 state=ready health=up picks=0");
}

TEST_F(ProtocolTest, RemReportsWhetherRemoved) {
  up({"REG", "web", "10.0.0.1:80"});
  EXPECT_EQ(run({"REM", "web", "10.0.0.1:80"}).integer, 1);
  Reply again = run({"REM", "web", "10.0.0.1:80"});
  EXPECT_EQ(again.kind, Reply::Kind::kInteger);
  EXPECT_EQ(again.integer, 0);
  EXPECT_EQ(error({"REQ", "web"}), "no server available for service 'web'");
}

TEST_F(ProtocolTest, ListCountsPicks) {
  up({"REG", "web", "10.0.0.1:80"});
  req();
  req();
  Reply r = run({"LIST", "web"});
  ASSERT_EQ(r.kind, Reply::Kind::kArray);
  EXPECT_EQ(r.items[0], "10.0.0.1:80 weight=1 state=ready health=up picks=2");
}

TEST_F(ProtocolTest, HeartbeatAppliesLoadPercentAndDrain) {
  up({"REG", "web", "10.0.0.1:80"});
  ok({"HB", "web", "10.0.0.1:80"});
  ok({"HB", "web", "10.0.0.1:80", "load=7", "weight=50%"});
  EXPECT_EQ(registry_.list("web").value()[0].reported_load, 7u);
  EXPECT_EQ(registry_.list("web").value()[0].weight_percent, 50u);
  ok({"HB", "web", "10.0.0.1:80", "DRAIN"});
  EXPECT_EQ(error({"REQ", "web"}), "no server available for service 'web'");
}

TEST_F(ProtocolTest, HeartbeatForUnknownServerOrServiceFails) {
  EXPECT_EQ(error({"HB", "nope", "10.0.0.1:80"}), "unknown service 'nope'");
  up({"REG", "web", "10.0.0.1:80"});
  EXPECT_EQ(error({"HB", "web", "10.0.0.9:80"}), "unknown server '10.0.0.9:80'");
}

TEST_F(ProtocolTest, BadHeartbeatFieldChangesNothing) {
  up({"REG", "web", "10.0.0.1:80"});
  for (Args a : {Args{"HB", "web", "10.0.0.1:80", "load=5", "drain", "weight=101%"},
                 Args{"HB", "web", "10.0.0.1:80", "drain", "load=-1"},
                 Args{"HB", "web", "10.0.0.1:80", "drain", "load=99999999999999999999999"},
                 Args{"HB", "web", "10.0.0.1:80", "drain", "weight=%"},
                 Args{"HB", "web", "10.0.0.1:80", "drain", "bogus"},
                 Args{"HB", "web", "10.0.0.1:80", "drain", ""}})
    error(a);
  EXPECT_EQ(req(), "10.0.0.1:80");
  EXPECT_EQ(registry_.list("web").value()[0].reported_load, 0u);
}

TEST_F(ProtocolTest, StateDrainAndMaintStopPicksReadyRestores) {
  up({"REG", "web", "10.0.0.1:80"});
  ok({"STATE", "web", "10.0.0.1:80", "drain"});
  error({"REQ", "web"});
  ok({"STATE", "web", "10.0.0.1:80", "MAINT"});
  error({"REQ", "web"});
  ok({"STATE", "web", "10.0.0.1:80", "ready"});
  EXPECT_EQ(req(), "10.0.0.1:80");
  EXPECT_NE(error({"STATE", "web", "10.0.0.1:80", "sleepy"}).find("invalid state"), std::string::npos);
  EXPECT_EQ(error({"STATE", "web", "10.0.0.2:80", "ready"}), "unknown server '10.0.0.2:80'");
}

TEST_F(ProtocolTest, AlgUnknownNameListsKnownOnes) {
  up({"REG", "web", "10.0.0.1:80"});
  std::string e = error({"ALG", "web", "fastest"});
  EXPECT_NE(e.find("unknown algorithm 'fastest'"), std::string::npos);
  EXPECT_NE(e.find("rr, "), std::string::npos);
  EXPECT_NE(e.find("maglev"), std::string::npos);
  EXPECT_EQ(registry_.algorithm("web").value(), "rr");
  EXPECT_EQ(error({"ALG", "nope", "rr"}), "unknown service 'nope'");
}

TEST_F(ProtocolTest, ReqWithKeyIsStickyUnderMaglev) {
  up({"REG", "web", "10.0.0.1:80"});
  up({"REG", "web", "10.0.0.2:80"});
  ok({"ALG", "web", "maglev"});
  std::string first = run({"REQ", "web", "user42"}).text;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run({"REQ", "web", "user42"}).text, first);
}

TEST_F(ProtocolTest, UnknownServiceErrors) {
  EXPECT_EQ(error({"REQ", "nope"}), "unknown service 'nope'");
  EXPECT_EQ(error({"LIST", "nope"}), "unknown service 'nope'");
  EXPECT_EQ(error({"REM", "nope", "10.0.0.1:80"}), "unknown service 'nope'");
}

TEST_F(ProtocolTest, WrongArgumentCountsUseRedisWording) {
  EXPECT_EQ(error({"REG", "web"}), "wrong number of arguments for 'reg' command");
  EXPECT_EQ(error({"reg", "web", "1.2.3.4:5", "1", "x"}), "wrong number of arguments for 'reg' command");
  EXPECT_EQ(error({"REM", "web"}), "wrong number of arguments for 'rem' command");
  EXPECT_EQ(error({"HB", "web"}), "wrong number of arguments for 'hb' command");
  EXPECT_EQ(error({"REQ"}), "wrong number of arguments for 'req' command");
  EXPECT_EQ(error({"REQ", "a", "b", "c"}), "wrong number of arguments for 'req' command");
  EXPECT_EQ(error({"ALG", "web"}), "wrong number of arguments for 'alg' command");
  EXPECT_EQ(error({"STATE", "web", "1.2.3.4:5"}), "wrong number of arguments for 'state' command");
  EXPECT_EQ(error({"LIST"}), "wrong number of arguments for 'list' command");
  EXPECT_EQ(error({"PING", "a", "b"}), "wrong number of arguments for 'ping' command");
}

TEST_F(ProtocolTest, UnknownVerbIsNamed) {
  EXPECT_EQ(error({"FLY", "web"}), "unknown command 'FLY'");
  EXPECT_EQ(error({std::string(1000, 'x')}), "unknown command '" + std::string(64, 'x') + "...'");
  EXPECT_EQ(error({}), "empty command");
  EXPECT_EQ(error({""}), "unknown command ''");
}

TEST_F(ProtocolTest, HostileRegArgumentsAreRejectedWithoutState) {
  for (Args a : {Args{"REG", "", "10.0.0.1:80"}, Args{"REG", "web", ""}, Args{"REG", "web", "10.0.0.1"},
                 Args{"REG", "web", "10.0.0.1:0"}, Args{"REG", "web", "10.0.0.1:65536"},
                 Args{"REG", "web", ":80"}, Args{"REG", "web", "10.0.0.1:-1"},
                 Args{"REG", "web", "10.0.0.1:80:90"}, Args{"REG", "web", "[::1:80"},
                 Args{"REG", "web", "10.0.0.1:80", "0"}, Args{"REG", "web", "10.0.0.1:80", "10001"},
                 Args{"REG", "web", "10.0.0.1:80", "-3"}, Args{"REG", "web", "10.0.0.1:80", "1.5"},
                 Args{"REG", "web", "10.0.0.1:80", ""},
                 Args{"REG", "web", "10.0.0.1:80", "184467440737095516160"},
                 Args{"REG", "web", std::string(100000, '9')}})
    error(a);
  EXPECT_EQ(registry_.service_count(), 0u);
}

TEST_F(ProtocolTest, AcceptsIpv6AndMaxWeight) {
  up({"REG", "web", "[::1]:8080", "10000"});
  EXPECT_EQ(req(), "[::1]:8080");
}

}  // namespace
}  // namespace chiron::ns
