// A FakeEngineClient + ApiServer on 127.0.0.1:<ephemeral> for tests.
#pragma once

#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "server/api_server.h"
#include "server/fake_engine_client.h"
#include "server/testing/test_client.h"

namespace pagellm::server::testing {

struct ServerSetup {
  FakeEngineOptions engine;
  ApiServerOptions api;
  ServerSetup() {
    api.http.host = "127.0.0.1";
    api.http.port = 0;
    api.http.io_threads = 2;
    api.serving.disable_log_requests = true;
    api.shutdown_grace = std::chrono::milliseconds(200);
  }
};

class TestServer {
 public:
  explicit TestServer(const ServerSetup& setup = ServerSetup())
      : engine_(std::make_unique<FakeEngineClient>(setup.engine)),
        api_(std::make_unique<ApiServer>(setup.api, engine_.get())) {
    auto port = api_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    port_ = port.ok() ? *port : 0;
    std::printf("test server on port %d\n", port_);
  }
  ~TestServer() {
    api_.reset();
    engine_.reset();
  }
  int port() const { return port_; }
  FakeEngineClient& engine() { return *engine_; }
  ApiServer& api() { return *api_; }
  std::string Expected(const std::string& prompt, int index, int max_tokens,
                       bool add_special = true) {
    return engine_->ExpectedText(*engine_->Encode(prompt, add_special), index, max_tokens);
  }

 private:
  std::unique_ptr<FakeEngineClient> engine_;
  std::unique_ptr<ApiServer> api_;
  int port_ = 0;
};

}  // namespace pagellm::server::testing
