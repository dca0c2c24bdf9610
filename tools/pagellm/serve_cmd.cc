// `pagellm serve MODEL`: the OpenAI-compatible server over the real engine (AsyncEngine).
// The hidden --fake-engine flag serves FakeEngineClient instead (server tests).
#include <cstdio>
#include <memory>

#include "base/logging.h"
#include "server/api_server.h"
#include "server/fake_engine_client.h"
#include "server/server_args.h"
#include "serving/async_engine_client.h"
#include "tools/pagellm/commands.h"

namespace pagellm::cli {
namespace {

std::unique_ptr<server::EngineClient> MakeFake(const server::ServerArgs& args, int fake_step_delay_us) {
  server::FakeEngineOptions fo;
  fo.served_model_names = args.ServedModelNames();
  if (args.max_model_len > 0) fo.max_model_len = args.max_model_len;
  fo.has_tokenizer = !args.skip_tokenizer_init;
  fo.max_logprobs = args.max_logprobs;
  fo.step_delay = std::chrono::microseconds(fake_step_delay_us);
  return std::make_unique<server::FakeEngineClient>(fo);
}

int RunServe(server::ServerArgs& args, int fake_step_delay_us) {
  if (Status st = args.Finalize(); !st.ok()) {
    std::fprintf(stderr, "pagellm serve: %s\n", st.message().c_str());
    return 2;
  }
  std::unique_ptr<server::EngineClient> engine;
  if (args.fake_engine) {
    engine = MakeFake(args, fake_step_delay_us);
  } else {
    auto real = CreateServingEngine(args);
    if (!real.ok()) {
      std::fprintf(stderr, "pagellm serve: %s\n", real.status().ToString().c_str());
      return 1;
    }
    engine = std::move(real).value();
  }
  server::ApiServer api(args.ToApiServerOptions(), engine.get());
  auto port = api.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "pagellm serve: %s\n", port.status().message().c_str());
    return 1;
  }
  api.HandleSignals();
  // Tests read this line to learn the port (--port 0 picks a free one).
  std::printf("pagellm: serving on http://%s:%d\n", args.host.c_str(), *port);
  std::fflush(stdout);
  api.Wait();
  LOG_INFO("server stopped");
  return 0;
}

}  // namespace

Command RegisterServe(CLI::App& app) {
  auto* sub = app.add_subcommand("serve", "Start the OpenAI-compatible HTTP server");
  auto args = std::make_shared<server::ServerArgs>();
  auto delay = std::make_shared<int>(0);
  args->Register(*sub);
  sub->add_option("--fake-step-delay-us", *delay, "Fake engine: microseconds per step")
      ->group("");
  return {sub, [args, delay] { return RunServe(*args, *delay); }};
}

}  // namespace pagellm::cli
