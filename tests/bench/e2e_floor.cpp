// The end-to-end latency floor: a minimal librdkafka producer/consumer pair with no service around
// it. C-style code on librdkafka's C API only (no Asio, no JSON library, no service code).
//
// The consumer assigns every partition of the topic at its current high watermark (no group
// join), waits a second so its fetch is in flight, then the producer sends --count orders at a
// fixed --rate (evenly spaced, absolute schedule), with the Order service's producer settings
// (enable.idempotence=true, acks=all, partitioner=murmur2_random, socket.nagle.disable=true,
// linger.ms from --linger; the
// service's default is 5). The consumer measures now_ms - message timestamp (CreateTime, ms) for
// each message, exactly as the Tracker does, and counts it into the Tracker's histogram buckets
// (0.1 ms x 1.2^k, 60 buckets); quantiles are interpolated as PromQL's histogram_quantile does,
// and also given exactly (nearest rank over the integer-ms samples).
//
// Prints one JSON object on stdout. Exit 0 if every message arrived, 1 otherwise.
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<long> delivered{0};
std::atomic<long> failed{0};

void dr_cb(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err) {
    failed.fetch_add(1);
  } else {
    delivered.fetch_add(1);
  }
}

int64_t wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void set(rd_kafka_conf_t* conf, const char* k, const char* v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "e2e_floor: %s=%s: %s\n", k, v, err);
    std::exit(2);
  }
}

// PromQL histogram_quantile over the Tracker's buckets.
double prom_quantile(double q, const std::vector<double>& bounds,
                     const std::vector<long>& counts /* bounds.size()+1, last = +Inf */) {
  long total = 0;
  for (long c : counts)
    total += c;
  if (total == 0) return NAN;
  const double rank = q * static_cast<double>(total);
  long cum = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const long prev = cum;
    cum += counts[i];
    if (static_cast<double>(cum) >= rank && counts[i] > 0) {
      if (i == bounds.size()) return bounds.back();
      const double lo = i == 0 ? 0.0 : bounds[i - 1];
      const double hi = bounds[i];
      return lo + (hi - lo) * (rank - static_cast<double>(prev)) / static_cast<double>(counts[i]);
    }
  }
  return bounds.back();
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "floor";
  double rate = 1000;
  long count = 10000;
  std::string linger = "5";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--bootstrap-servers")
      bootstrap = v;
    else if (a == "--topic")
      topic = v;
    else if (a == "--rate")
      rate = std::atof(v);
    else if (a == "--count")
      count = std::atol(v);
    else if (a == "--linger")
      linger = v;
    else {
      std::fprintf(stderr,
                   "usage: %s [--bootstrap-servers B] [--topic T] [--rate R] [--count N] "
                   "[--linger MS]\n",
                   argv[0]);
      return 2;
    }
  }
  char err[512];

  // Consumer: assign every partition at its high watermark.
  rd_kafka_conf_t* cconf = rd_kafka_conf_new();
  set(cconf, "bootstrap.servers", bootstrap.c_str());
  set(cconf, "group.id", ("e2e-floor-" + std::to_string(getpid())).c_str());
  set(cconf, "enable.auto.commit", "false");
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof err);
  if (!consumer) {
    std::fprintf(stderr, "e2e_floor: consumer: %s\n", err);
    return 2;
  }
  rd_kafka_poll_set_consumer(consumer);

  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* mt = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  if (rd_kafka_metadata(consumer, 0, mt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1 || md->topics[0].err) {
    std::fprintf(stderr, "e2e_floor: no metadata for topic %s\n", topic.c_str());
    return 2;
  }
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(mt);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_query_watermark_offsets(consumer, topic.c_str(), p, &lo, &hi, 10000);
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = hi;
  }
  rd_kafka_assign(consumer, parts);
  rd_kafka_topic_partition_list_destroy(parts);

  std::vector<double> bounds;
  for (int k = 0; k < 60; ++k)
    bounds.push_back(0.0001 * std::pow(1.2, k));
  std::vector<long> buckets(bounds.size() + 1, 0);
  std::vector<int64_t> samples;
  samples.reserve(static_cast<std::size_t>(count));
  std::atomic<bool> producer_done{false};
  std::atomic<int64_t> producer_done_at{0};

  std::thread consumer_thread([&] {
    while (static_cast<long>(samples.size()) < count) {
      if (producer_done.load() && wall_ms() - producer_done_at.load() > 10000) break;
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
      if (!m) continue;
      if (!m->err) {
        const int64_t now = wall_ms();
        const int64_t ts = rd_kafka_message_timestamp(m, nullptr);
        if (ts > 0) {
          const int64_t d = now - ts;
          samples.push_back(d);
          const double s = static_cast<double>(d) / 1000.0;
          const auto it = std::lower_bound(bounds.begin(), bounds.end(), s);
          ++buckets[static_cast<std::size_t>(it - bounds.begin())];
        }
      }
      rd_kafka_message_destroy(m);
    }
  });
  sleep(1);  // let the consumer connect and have its first fetch in flight

  // Producer: the Order service's delivery settings.
  rd_kafka_conf_t* pconf = rd_kafka_conf_new();
  set(pconf, "bootstrap.servers", bootstrap.c_str());
  set(pconf, "enable.idempotence", "true");
  set(pconf, "acks", "all");
  set(pconf, "partitioner", "murmur2_random");
  set(pconf, "socket.nagle.disable", "true");
  set(pconf, "linger.ms", linger.c_str());
  rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
  if (!producer) {
    std::fprintf(stderr, "e2e_floor: producer: %s\n", err);
    return 2;
  }

  static const char* users[] = {"John Doe", "Jane Doe", "Ada Lovelace", "Alan Turing"};
  static const char* items[] = {"Shoes", "Phone", "Laptop", "Book", "Coffee"};
  const long interval_ns = static_cast<long>(1e9 / rate);
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  char key[40];
  char payload[256];
  for (long i = 0; i < count; ++i) {
    std::snprintf(key, sizeof key, "%08lx-%04x-4%03x-8%03x-%012lx", static_cast<unsigned long>(i),
                  static_cast<unsigned>(getpid() & 0xffff), static_cast<unsigned>(i & 0xfff),
                  static_cast<unsigned>((i >> 12) & 0xfff),
                  static_cast<unsigned long>(i * 2654435761UL) & 0xffffffffffffUL);
    const int n =
        std::snprintf(payload, sizeof payload,
                      "{\"order_id\":\"%s\",\"user\":\"%s\",\"item\":\"%s\",\"quantity\":%ld,"
                      "\"schema_version\":1}",
                      key, users[i % 4], items[i % 5], i % 5 + 1);
    for (;;) {
      const rd_kafka_resp_err_t e =
          rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key, 36),
                            RD_KAFKA_V_VALUE(payload, static_cast<size_t>(n)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "e2e_floor: produce: %s\n", rd_kafka_err2str(e));
        return 2;
      }
      rd_kafka_poll(producer, 10);
    }
    rd_kafka_poll(producer, 0);
    next.tv_nsec += interval_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      ++next.tv_sec;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
    }
  }
  rd_kafka_flush(producer, 30000);
  producer_done_at.store(wall_ms());
  producer_done.store(true);
  consumer_thread.join();

  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  const auto exact = [&](double q) -> double {
    if (sorted.empty()) return NAN;
    std::size_t idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    idx = idx == 0 ? 0 : idx - 1;
    return static_cast<double>(sorted[std::min(idx, sorted.size() - 1)]);
  };
  double sum = 0;
  for (int64_t s : samples)
    sum += static_cast<double>(s);
  std::printf(
      "{\"linger_ms\":%s,\"rate\":%.0f,\"count\":%ld,\"delivered\":%ld,\"failed\":%ld,"
      "\"received\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
      "\"exact_p50_ms\":%.0f,\"exact_p99_ms\":%.0f,\"exact_p999_ms\":%.0f,"
      "\"max_ms\":%.0f,\"mean_ms\":%.3f,\"buckets\":[",
      linger.c_str(), rate, count, delivered.load(), failed.load(), samples.size(),
      prom_quantile(0.5, bounds, buckets) * 1000, prom_quantile(0.99, bounds, buckets) * 1000,
      prom_quantile(0.999, bounds, buckets) * 1000, exact(0.5), exact(0.99), exact(0.999),
      sorted.empty() ? NAN : static_cast<double>(sorted.back()),
      samples.empty() ? NAN : sum / static_cast<double>(samples.size()));
  for (std::size_t i = 0; i < buckets.size(); ++i)
    std::printf("%s%ld", i ? "," : "", buckets[i]);
  std::printf("]}\n");

  rd_kafka_destroy(producer);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return static_cast<long>(samples.size()) == count ? 0 : 1;
}
