#include "common/config/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>

extern char** environ;

namespace order_tracker::config {
namespace po = boost::program_options;

namespace {

constexpr std::string_view rdkafka_env_prefix = "RDKAFKA_";

std::string lower_dotted(std::string_view env_suffix) {
  std::string name(env_suffix);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return c == '_' ? '.' : static_cast<char>(std::tolower(c));
  });
  return name;
}

std::string option_name(const std::string& spec) {
  return spec.substr(0, spec.find(','));
}

}  // namespace

environment current_environment() {
  environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    env.emplace_back(*e);
  return env;
}

property parse_property(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw config_error(fmt::format("-X {}: expected key=value", text));
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

command_line::command_line(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)), options_("Options", 100, 50) {
  options_.add_options()("help,h", "print this reference and exit");
}

void command_line::declare(const std::string& name, const po::value_semantic* semantic,
                           const std::string& env, const std::string& help) {
  std::string text = help;
  if (!env.empty()) {
    text += fmt::format(" (env ${})", env);
    env_to_option_[env] = option_name(name);
  }
  options_.add_options()(name.c_str(), semantic, text.c_str());
}

void command_line::add_switch(const std::string& name, bool& target, const std::string& env,
                              const std::string& help) {
  declare(name, po::bool_switch(&target), env, help);
}

void command_line::add_common(common_options& target) {
  common_ = &target;
  add("bootstrap-servers", target.kafka.bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS",
      "Kafka brokers, host:port[,host:port...]");
  add("topic", target.kafka.topic, "KAFKA_TOPIC", "topic of OrderPlaced events");
  raw_log_level_ = "info";
  raw_log_format_ = "text";
  add("log-level", raw_log_level_, "LOG_LEVEL", "debug, info, warn, error or off");
  add("log-format", raw_log_format_, "LOG_FORMAT", "text or json");
  declare("property,X", po::value(&raw_properties_)->composing()->value_name("key=value"), "",
          "any librdkafka property (repeatable); also RDKAFKA_KEY_NAME=value in the environment, "
          "e.g. RDKAFKA_SASL_USERNAME for sasl.username");
}

void command_line::add_topic(topic_options& target) {
  topic_ = &target;
  add("partitions", target.partitions, "TOPIC_PARTITIONS", "partitions when creating the topic");
  add("replication-factor", target.replication_factor, "TOPIC_REPLICATION_FACTOR",
      "replicas when creating the topic");
  add("min-insync-replicas", target.min_insync_replicas, "TOPIC_MIN_INSYNC_REPLICAS",
      "min.insync.replicas when creating the topic (0: broker default)");
}

void command_line::finish_topic() const {
  if (topic_ == nullptr) return;
  if (topic_->partitions < 1) throw config_error("--partitions: must be at least 1");
  if (topic_->replication_factor < 1)
    throw config_error("--replication-factor: must be at least 1");
  if (topic_->min_insync_replicas < 0) throw config_error("--min-insync-replicas: must be >= 0");
}

void command_line::finish_common() {
  if (common_ == nullptr) return;
  const auto level = log::parse_level(raw_log_level_);
  if (!level)
    throw config_error(
        fmt::format("--log-level {}: expected debug, info, warn, error or off", raw_log_level_));
  const auto format = log::parse_format(raw_log_format_);
  if (!format)
    throw config_error(fmt::format("--log-format {}: expected text or json", raw_log_format_));
  common_->log_level = *level;
  common_->log_format = *format;
  if (common_->kafka.bootstrap_servers.empty()) {
    throw config_error("--bootstrap-servers: must not be empty");
  }
  if (common_->kafka.topic.empty()) throw config_error("--topic: must not be empty");
}

command_line::outcome command_line::parse(int argc, const char* const argv[],
                                          const environment& env) {
  po::variables_map vm;
  try {
    // Flags are stored first so that they take precedence over the environment.
    po::store(po::command_line_parser(argc, argv).options(options_).run(), vm);

    // Environment variables are stored second: program_options keeps the first value it sees.
    std::vector<std::string> env_properties;
    po::parsed_options from_env(&options_);
    for (const auto& entry : env) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos) continue;
      const std::string name = entry.substr(0, eq);
      if (common_ != nullptr && name.starts_with(rdkafka_env_prefix) &&
          name.size() > rdkafka_env_prefix.size()) {
        env_properties.push_back(
            lower_dotted(std::string_view(name).substr(rdkafka_env_prefix.size())) + "=" +
            entry.substr(eq + 1));
      } else if (const auto it = env_to_option_.find(name); it != env_to_option_.end()) {
        po::option opt(it->second, {entry.substr(eq + 1)});
        opt.original_tokens = {entry};
        from_env.options.push_back(std::move(opt));
      }
    }
    po::store(from_env, vm);
    if (vm.count("help") != 0U) {
      std::cout << usage();
      return outcome::exit_success;
    }
    po::notify(vm);
    if (common_ != nullptr) {
      // Environment properties first, so an explicit -X given on the command line wins.
      for (const auto& p : env_properties)
        common_->kafka.properties.push_back(parse_property(p));
      for (const auto& p : raw_properties_)
        common_->kafka.properties.push_back(parse_property(p));
    }
  } catch (const config_error&) {
    throw;
  } catch (const po::error& e) {
    throw config_error(e.what());
  }
  finish_common();
  finish_topic();
  return outcome::run;
}

std::string command_line::usage() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [options]\n" << summary_ << "\n\n" << options_;
  return out.str();
}

}  // namespace order_tracker::config
