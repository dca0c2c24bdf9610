// Loopback load: 1,000 concurrent streams, /health during the load, random disconnects.
#include <sys/resource.h>

#include <atomic>
#include <random>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "server/bench/bench_serve.h"
#include "server/bench/http_stream_client.h"
#include "server/testing/server_fixture.h"

namespace pagellm::server::testing {
namespace {

void RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

TEST(ServerLoadTest, ThousandConcurrentStreams) {
  RaiseFdLimit();
  ServerSetup s;
  s.engine.step_delay = std::chrono::microseconds(500);
  TestServer server(s);
  bench::BenchServeConfig cfg;
  cfg.port = server.port();
  cfg.model = "fake-model";
  const int kRequests = 1000;
  std::vector<bench::BenchItem> items(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    items[i].prompt = "load " + std::to_string(i);
    items[i].max_tokens = 16 + i % 17;
  }
  std::atomic<bool> running{true};
  std::atomic<int> health_ok{0}, health_bad{0};
  std::thread prober([&] {
    while (running) {
      try {
        (Fetch(server.port(), "GET", "/health").status == 200 ? health_ok : health_bad)++;
      } catch (const std::exception&) {
        health_bad++;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  double duration = 0;
  auto outcomes = bench::RunBenchmark(cfg, items, &duration);
  running = false;
  prober.join();
  std::printf("1000 streams in %.2f s; /health ok %d bad %d\n", duration, health_ok.load(),
              health_bad.load());
  int failures = 0;
  for (int i = 0; i < kRequests; ++i) {
    const auto& o = outcomes[i];
    std::string expected = server.Expected(items[i].prompt, 0, items[i].max_tokens);
    if (!o.success || o.output_tokens != items[i].max_tokens || o.generated_text != expected) {
      if (++failures < 5) {
        ADD_FAILURE() << i << ": " << o.error << " tokens " << o.output_tokens << " text '"
                      << o.generated_text << "' want '" << expected << "'";
      }
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(health_ok.load(), 0);
  EXPECT_EQ(health_bad.load(), 0);
  EXPECT_EQ(server.engine().num_aborts(), 0);
  EXPECT_LT(duration, 25.0);
}

TEST(ServerLoadTest, RandomDisconnectsAbort) {
  RaiseFdLimit();
  ServerSetup s;
  s.engine.step_delay = std::chrono::milliseconds(1);
  TestServer server(s);
  const int kRequests = 200;
  asio::io_context ioc;
  std::mt19937 rng(7);
  std::vector<std::shared_ptr<bench::HttpCallHandle>> calls;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::atomic<int> cancelled{0}, completed{0};
  for (int i = 0; i < kRequests; ++i) {
    bool cancel = rng() % 2 == 0;
    // Cancelled ones would run for seconds; the others finish quickly.
    int max_tokens = cancel ? 2000 : 20;
    bench::HttpCall call{"127.0.0.1", server.port(), "POST", "/v1/completions",
                         Json{{"prompt", "d" + std::to_string(i)}, {"max_tokens", max_tokens},
                              {"stream", i % 3 != 0}}.dump(), {}};
    bench::HttpCallbacks cb;
    cb.on_done = [&, cancel](Status st) { (cancel ? cancelled : completed)++; };
    calls.push_back(bench::StartHttpCall(ioc, call, cb));
    if (cancel) {
      timers.push_back(std::make_unique<asio::steady_timer>(
          ioc, std::chrono::milliseconds(20 + rng() % 200)));
      timers.back()->async_wait([h = calls.back()](const boost::system::error_code&) { h->Cancel(); });
    }
  }
  int expected_cancels = static_cast<int>(timers.size());
  ioc.run();
  EXPECT_EQ(cancelled.load(), expected_cancels);
  EXPECT_EQ(completed.load(), kRequests - expected_cancels);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (server.engine().num_aborts() < expected_cancels &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.engine().num_aborts(), expected_cancels);
  EXPECT_EQ(server.engine().num_in_flight(), 0);
  EXPECT_EQ(Fetch(server.port(), "GET", "/health").status, 200);
}

}  // namespace
}  // namespace pagellm::server::testing
