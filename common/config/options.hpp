#pragma once
/// Command-line flags with environment-variable equivalents, shared by both services. A flag wins
/// over its environment variable, which wins over the default. librdkafka properties pass through
/// untouched as `-X key=value` (as kcat does) or `RDKAFKA_KEY_NAME=value` (dots written as `_`).

#include <boost/program_options.hpp>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/observability/log.hpp"

namespace order_tracker::config {

/// A librdkafka property name and value.
using property = std::pair<std::string, std::string>;

/// `NAME=value` strings, as in `environ`.
using environment = std::vector<std::string>;
environment current_environment();

struct kafka_options {
  std::string bootstrap_servers{"localhost:9092"};
  std::string topic{"orders"};
  std::vector<property> properties;  ///< -X passthrough, in the order given
};

struct common_options {
  kafka_options kafka;
  log::level log_level = log::level::info;
  log::format log_format = log::format::text;
};

/// How a service creates a topic it finds missing (both services ensure theirs at start).
struct topic_options {
  int partitions = 3;
  int replication_factor = 1;
  int min_insync_replicas = 0;  ///< 0: the broker's default
};

/// A setting the service cannot start with; `main` prints it and exits with code 2.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Exit code for bad configuration (as documented in the README).
inline constexpr int exit_config_error = 2;

class command_line {
 public:
  command_line(std::string program, std::string summary);

  /// Declares --bootstrap-servers, --topic, -X/--property, --log-level and --log-format.
  void add_common(common_options& target);

  /// Declares --partitions, --replication-factor and --min-insync-replicas (with their
  /// TOPIC_* environment variables), checked by parse().
  void add_topic(topic_options& target);

  /// Declares one option, `--name` or `--name,c`, set by `env` (may be empty) when the flag is
  /// absent. The current value of `target` is the default.
  template <typename T>
  void add(const std::string& name, T& target, const std::string& env, const std::string& help) {
    auto* semantic = boost::program_options::value<T>(&target)->default_value(target);
    declare(name, semantic, env, help);
  }

  /// A flag without a value; its environment variable takes true/false/1/0.
  void add_switch(const std::string& name, bool& target, const std::string& env,
                  const std::string& help);

  enum class outcome { run, exit_success };

  /// Parses argv, then the environment. Prints --help/--version itself (outcome::exit_success).
  /// Throws config_error with a message that names the setting at fault.
  outcome parse(int argc, const char* const argv[], const environment& env);

  /// The option reference printed by --help.
  std::string usage() const;

 private:
  void declare(const std::string& name, const boost::program_options::value_semantic* semantic,
               const std::string& env, const std::string& help);
  void finish_common();
  void finish_topic() const;

  std::string program_;
  std::string summary_;
  boost::program_options::options_description options_;
  std::map<std::string, std::string> env_to_option_;
  common_options* common_ = nullptr;
  topic_options* topic_ = nullptr;
  std::vector<std::string> raw_properties_;
  std::string raw_log_level_;
  std::string raw_log_format_;
};

/// Parses "key=value" (the -X form); throws config_error on a missing '=' or empty key.
property parse_property(const std::string& text);

}  // namespace order_tracker::config
