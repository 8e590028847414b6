#include "common/config/options.hpp"

#define BOOST_TEST_MODULE options
#include <boost/test/unit_test.hpp>

using namespace order_tracker::config;

namespace {

struct parsed {
  common_options common;
  int rate = 5;
};

parsed parse(std::vector<const char*> args, const environment& env = {}) {
  parsed p;
  command_line cli("test", "a test");
  cli.add_common(p.common);
  cli.add("rate", p.rate, "RATE", "a service option");
  args.insert(args.begin(), "test");
  BOOST_REQUIRE(cli.parse(static_cast<int>(args.size()), args.data(), env) ==
                command_line::outcome::run);
  return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_match_the_seed_tutorial) {
  const auto p = parse({});
  BOOST_TEST(p.common.kafka.bootstrap_servers == "localhost:9092");
  BOOST_TEST(p.common.kafka.topic == "orders");
  BOOST_TEST(p.common.kafka.properties.empty());
  BOOST_TEST((p.common.log_level == order_tracker::log::level::info));
  BOOST_TEST(p.rate == 5);
}

BOOST_AUTO_TEST_CASE(environment_sets_options_and_flags_win_over_it) {
  const environment env{"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1234", "RATE=9", "KAFKA_TOPIC=from-env"};
  const auto from_env = parse({}, env);
  BOOST_TEST(from_env.common.kafka.bootstrap_servers == "127.0.0.1:1234");
  BOOST_TEST(from_env.rate == 9);
  const auto flags = parse({"--bootstrap-servers", "127.0.0.1:99", "--rate", "3"}, env);
  BOOST_TEST(flags.common.kafka.bootstrap_servers == "127.0.0.1:99");
  BOOST_TEST(flags.rate == 3);
  BOOST_TEST(flags.common.kafka.topic == "from-env");
}

BOOST_AUTO_TEST_CASE(librdkafka_properties_pass_through_from_flags_and_environment) {
  const environment env{"RDKAFKA_SASL_USERNAME=alice", "RDKAFKA_LINGER_MS=7"};
  const auto p = parse({"-X", "linger.ms=0", "--property", "acks=all", "-X", "client.id=a=b"}, env);
  const std::vector<property> expected{{"sasl.username", "alice"},
                                       {"linger.ms", "7"},
                                       {"linger.ms", "0"},
                                       {"acks", "all"},
                                       {"client.id", "a=b"}};
  BOOST_TEST((p.common.kafka.properties == expected));
}

BOOST_AUTO_TEST_CASE(log_level_and_format_are_validated) {
  const auto p = parse({"--log-level", "debug", "--log-format", "json"});
  BOOST_TEST((p.common.log_level == order_tracker::log::level::debug));
  BOOST_TEST((p.common.log_format == order_tracker::log::format::json));
  BOOST_CHECK_THROW(parse({"--log-level", "verbose"}), config_error);
  BOOST_CHECK_THROW(parse({"--log-format", "xml"}), config_error);
}

BOOST_AUTO_TEST_CASE(bad_settings_throw_a_config_error_naming_them) {
  auto message_of = [](std::vector<const char*> args, const environment& env = {}) {
    try {
      parse(std::move(args), env);
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(message_of({"--no-such-flag"}).find("no-such-flag") != std::string::npos);
  BOOST_TEST(message_of({"--rate", "fast"}).find("rate") != std::string::npos);
  BOOST_TEST(message_of({}, {"RATE=fast"}).find("rate") != std::string::npos);
  BOOST_TEST(message_of({"-X", "novalue"}).find("novalue") != std::string::npos);
  BOOST_TEST(message_of({"-X", "=x"}).find("key=value") != std::string::npos);
  BOOST_TEST(message_of({"--bootstrap-servers", ""}).find("bootstrap-servers") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_prints_the_reference_with_environment_names) {
  common_options common;
  command_line cli("svc", "summary");
  cli.add_common(common);
  const char* args[] = {"svc", "--help"};
  BOOST_TEST((cli.parse(2, args, {}) == command_line::outcome::exit_success));
  const auto text = cli.usage();
  BOOST_TEST(text.find("KAFKA_BOOTSTRAP_SERVERS") != std::string::npos);
  BOOST_TEST(text.find("--property") != std::string::npos);
}
