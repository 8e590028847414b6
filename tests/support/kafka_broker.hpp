#pragma once
/// A real Apache Kafka broker (KRaft) for a test executable, started through the project's own
/// deploy/local/kafka.sh on free loopback ports in a fresh directory, stopped (by pid) at the end.

#include <filesystem>
#include <string>

namespace order_tracker::test {

class kafka_broker {
 public:
  explicit kafka_broker(int nodes = 1, bool sasl = false);
  ~kafka_broker();
  kafka_broker(const kafka_broker&) = delete;
  kafka_broker& operator=(const kafka_broker&) = delete;

  /// host:port[,host:port...]
  const std::string& bootstrap() const { return bootstrap_; }
  const std::filesystem::path& dir() const { return dir_; }
  int port() const { return port_; }

  /// Runs `kafka.sh <args...>` against this broker's directory; throws on failure.
  std::string script(const std::string& args) const;

 private:
  std::filesystem::path dir_;
  std::string bootstrap_;
  int port_ = 0;
};

/// A base port P such that P .. P+count-1 are all free on 127.0.0.1 right now.
int free_port_range(int count);

/// The repository root (compiled in).
std::filesystem::path source_dir();

/// A fresh directory under the build tree's test scratch space.
std::filesystem::path scratch_dir(const std::string& name);

/// The directory holding order-service and tracker-service.
std::filesystem::path bin_dir();

}  // namespace order_tracker::test
