// The JSON work of one pod cycle (SetUpPod + TearDownPod over the pod_churn
// `noop` conflist: two plugins, cniVersion 1.0.0), one operation at a time,
// with the inputs the cycle really sees:
//
//   - AddResult: what AddNetwork does with a plugin's ADD output (decode,
//     convert to the config's version, turn into the next prevResult), for
//     the no-op plugin's output and for a bridge + host-local 1.0.0 result;
//   - BuildPluginRequest: a plugin's stdin, without prevResult (first plugin
//     of ADD) and with it (second plugin of ADD, both plugins of DEL);
//   - EncodeCacheFile / DecodeCacheFile of the full entry ADD writes;
//   - DelPrevResult: the cached result (a Struct) to a Result in the
//     config's version to the prevResult Value, as DelNetwork does.
//
// The *ViaMessage variants are AddResult and DelPrevResult as they were
// before the prevResult value came from the parsed object (a Result, then
// MessageToValue of it), kept for comparison.
//
// Compare CPU time, not wall time:
//   bazel run -c opt //bench:json_bench -- --benchmark_repetitions=5
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "config/network_config.h"
#include "google/protobuf/struct.pb.h"
#include "types/cache.h"
#include "types/json.h"
#include "types/request.h"
#include "types/result.h"

namespace ocicni::types {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// bench/churn.cc NoopConflist().
constexpr char kConflist[] =
    R"({"cniVersion":"1.0.0","name":"benchnet","plugins":[)"
    R"({"type":"noop","bridge":"cni0","isGateway":true,"ipMasq":true,)"
    R"("hairpinMode":true,"ipam":{"type":"host-local","ranges":)"
    R"([[{"subnet":"10.88.0.0/16","gateway":"10.88.0.1"}]],)"
    R"("routes":[{"dst":"0.0.0.0/0"}]}},)"
    R"({"type":"noop","capabilities":{"portMappings":true},)"
    R"("snat":true}]})";

// testing/noop_plugin.cc kAddResult.
constexpr char kNoopOutput[] =
    R"({"cniVersion":"1.1.0","interfaces":[{"name":"eth0",)"
    R"("sandbox":"/var/run/netns/noop"}],"ips":[{"address":)"
    R"("10.88.0.2/16","gateway":"10.88.0.1","interface":0}]})";

// Debian's bridge + host-local at 1.0.0, as printed (types/testdata,
// types/result_test.cc).
constexpr char kBridgeOutput[] = R"({
    "cniVersion": "1.0.0",
    "interfaces": [
        {
            "name": "cni0",
            "mac": "8e:a9:e9:9f:35:8b"
        },
        {
            "name": "veth436e0600",
            "mac": "ae:3f:ba:d4:0e:aa"
        },
        {
            "name": "eth0",
            "mac": "e6:85:5d:4b:98:2e",
            "sandbox": "/var/run/netns/cni-3f1b6a9c-0e2d-4c5b-9a8f-7d6c5b4a3f2e"
        }
    ],
    "ips": [
        {
            "interface": 2,
            "address": "10.88.0.2/16",
            "gateway": "10.88.0.1"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0"
        }
    ],
    "dns": {}
})";

constexpr char kVersion[] = "1.0.0";
constexpr char kContainerId[] =
    "4f1b6a9c0e2d4c5b9a8f7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19081f2e3d4c";

const config::NetworkConfigList& Conflist() {
  static const auto* list = [] {
    auto parsed = config::ParseConfList(kConflist, "bench");
    if (!parsed.ok()) std::abort();
    return new config::NetworkConfigList(*std::move(parsed));
  }();
  return *list;
}

// The ADD side of one plugin call, as AddNetwork does it.
Value AddResult(absl::string_view output) {
  absl::StatusOr<DecodedResult> result =
      DecodeResultWithObject(output, kVersion, "noop");
  if (!result.ok()) std::abort();
  absl::StatusOr<ConvertedResult> converted =
      ConvertResultWithValue(*std::move(result), kVersion);
  if (!converted.ok()) std::abort();
  return std::move(converted->value);
}

// The same through the message (what AddNetwork did before the value came
// from the parsed output), for comparison.
Value AddResultViaMessage(absl::string_view output) {
  absl::StatusOr<Result> result = DecodeResult(output, kVersion, "noop");
  if (!result.ok()) std::abort();
  absl::StatusOr<Result> converted = ConvertResult(*result, kVersion);
  if (!converted.ok()) std::abort();
  absl::StatusOr<Value> value = MessageToValue(*converted);
  if (!value.ok()) std::abort();
  return *std::move(value);
}

// RunAddResult times `add` on the noop (arg 0) or bridge (arg 1) output.
void RunAddResult(benchmark::State& state, Value (*add)(absl::string_view)) {
  const char* output = state.range(0) == 0 ? kNoopOutput : kBridgeOutput;
  for (auto _ : state) {
    Value value = add(output);
    benchmark::DoNotOptimize(value);
  }
  state.SetLabel(state.range(0) == 0 ? "noop" : "bridge");
}

void BM_AddResult(benchmark::State& state) { RunAddResult(state, AddResult); }
BENCHMARK(BM_AddResult)->Arg(0)->Arg(1);

void BM_AddResultViaMessage(benchmark::State& state) {
  RunAddResult(state, AddResultViaMessage);
}
BENCHMARK(BM_AddResultViaMessage)->Arg(0)->Arg(1);

// DecodeResult alone (part of BM_AddResult).
void BM_DecodeResult(benchmark::State& state) {
  const char* output = state.range(0) == 0 ? kNoopOutput : kBridgeOutput;
  for (auto _ : state) {
    absl::StatusOr<Result> result = DecodeResult(output, kVersion, "noop");
    benchmark::DoNotOptimize(result);
  }
  state.SetLabel(state.range(0) == 0 ? "noop" : "bridge");
}
BENCHMARK(BM_DecodeResult)->Arg(0)->Arg(1);

void BM_BuildPluginRequest(benchmark::State& state) {
  const config::NetworkConfigList& list = Conflist();
  const bool with_prev = state.range(0) != 0;
  const Value prev = AddResult(kNoopOutput);
  const Struct caps;
  const config::PluginConfig& plugin = list.plugins[with_prev ? 1 : 0];
  for (auto _ : state) {
    absl::StatusOr<std::string> request =
        BuildPluginRequest(plugin.conf, list.name, list.cni_version,
                           with_prev ? &prev : nullptr, caps);
    benchmark::DoNotOptimize(request);
  }
  state.SetLabel(with_prev ? "with prevResult" : "first plugin");
}
BENCHMARK(BM_BuildPluginRequest)->Arg(0)->Arg(1);

// The entry AddNetwork writes at the end of the chain.
CacheFile Entry() {
  CacheFile entry;
  entry.set_container_id(kContainerId);
  entry.set_config(kConflist);
  entry.set_if_name("eth0");
  entry.set_network_name("benchnet");
  entry.set_netns("/tmp/pod_churn.Xb3kQ9/netns/pod-17");
  for (const auto& [key, value] :
       std::initializer_list<std::pair<const char*, std::string>>{
           {"IgnoreUnknown", "1"},
           {"K8S_POD_NAMESPACE", "bench"},
           {"K8S_POD_NAME", "churn-17"},
           {"K8S_POD_INFRA_CONTAINER_ID", kContainerId},
           {"K8S_POD_UID", "4f1b6a9c-0e2d-4c5b-9a8f-7d6c5b4a3f2e"}}) {
    google::protobuf::ListValue* pair = entry.add_cni_args();
    *pair->add_values() = StringValue(key);
    *pair->add_values() = StringValue(value);
  }
  *entry.mutable_result() = AddResult(kNoopOutput).struct_value();
  return entry;
}

void BM_EncodeCacheFile(benchmark::State& state) {
  const CacheFile entry = Entry();
  for (auto _ : state) {
    std::string bytes = EncodeCacheFile(entry);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_EncodeCacheFile);

void BM_DecodeCacheFile(benchmark::State& state) {
  const std::string bytes = EncodeCacheFile(Entry());
  for (auto _ : state) {
    absl::StatusOr<DecodedCacheFile> decoded =
        DecodeCacheFile(bytes, "/var/lib/cni/results/benchnet-c-eth0");
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_DecodeCacheFile);

// DelNetwork's PrevResult: the cached result, in the config's version, as
// a Value (the entry's result is moved out: here a copy of it is).
void BM_DelPrevResult(benchmark::State& state) {
  const CacheFile entry = Entry();
  for (auto _ : state) {
    Struct cached = entry.result();
    absl::StatusOr<DecodedResult> result =
        DecodeResultWithObject(std::move(cached), kVersion, "(cached result)");
    if (!result.ok()) std::abort();
    absl::StatusOr<ConvertedResult> converted =
        ConvertResultWithValue(*std::move(result), kVersion);
    benchmark::DoNotOptimize(converted);
  }
}
BENCHMARK(BM_DelPrevResult);

// The same through the message, as before.
void BM_DelPrevResultViaMessage(benchmark::State& state) {
  const CacheFile entry = Entry();
  for (auto _ : state) {
    absl::StatusOr<Result> result =
        DecodeResult(entry.result(), kVersion, "(cached result)");
    if (!result.ok()) std::abort();
    absl::StatusOr<Result> converted = ConvertResult(*result, kVersion);
    if (!converted.ok()) std::abort();
    absl::StatusOr<Value> value = MessageToValue(*converted);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_DelPrevResultViaMessage);

}  // namespace
}  // namespace ocicni::types
