#include "deviceplugin/sgx/epc_registrar.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <exception>

#include "kube/api_status.h"
#include "kube/names.h"
#include "kube/node_capacity.h"
#include "kube/quantity.h"

namespace confcom::deviceplugin {

EpcRegistrar::EpcRegistrar(std::unique_ptr<kube::ApiClient> client,
                           std::function<Result<uint64_t>()> epc_bytes, EpcRegistrarOptions options)
    : client_(std::move(client)), epc_bytes_(std::move(epc_bytes)), opt_(std::move(options)) {}

EpcRegistrar::~EpcRegistrar() { Stop(); }

void EpcRegistrar::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void EpcRegistrar::Stop() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool EpcRegistrar::Stopping() {
  std::lock_guard l(mu_);
  return stopping_;
}

Status EpcRegistrar::ReconcileOnce() {
  if (!kube::IsDnsSubdomain(opt_.node_name)) {
    return Status::InvalidArgument("'" + opt_.node_name.substr(0, 64) +
                                   "' is not a valid Node name (lowercase RFC 1123 subdomain)");
  }
  auto want = epc_bytes_();
  if (!want.ok()) return want.status();
  // The API's quantities stop at 2^63-1 and kube::ParseQuantity at 2^62: a larger EPC could
  // never read back equal, so it would be patched on every resync.
  if (*want > uint64_t(kube::kMaxQuantity)) {
    return Status::InvalidArgument("the discovered EPC, " + std::to_string(*want) +
                                   " bytes, is above the largest quantity (2^62 bytes)");
  }
  const std::string node_path = "/api/v1/nodes/" + kube::EscapePathSegment(opt_.node_name);
  kube::RetryOptions retry;
  retry.initial = opt_.backoff_initial;
  retry.max = opt_.backoff_max;
  retry.stop = [this] { return Stopping(); };
  bool warned = false;
  retry.on_retry = [&](const std::string& what, std::chrono::milliseconds wait) {
    if (!warned) {
      spdlog::warn("{}: API server not answering ({}); retrying with backoff up to {} ms",
                   opt_.resource, what, opt_.backoff_max.count());
      warned = true;
    } else {
      spdlog::debug("{}: {}; next try in {} ms", opt_.resource, what, wait.count());
    }
  };
  auto got = client_->CallWithRetry("GET", node_path, "", "", retry);
  if (!got.ok()) return got.status();
  if (Status st =
          kube::ApiStatus(got->status, got->body, "GET node " + opt_.node_name, "get nodes");
      !st.ok()) {
    if (got->status != 404) return st;
    return Status::NotFound(st.message() + " (is NODE_NAME this node's name?)");
  }
  stats_.checks++;
  // A wrong answer is reported with the field it has wrong, and tried again at the next
  // reconciliation; it never ends the plugin (docs/kubernetes-api.md, "Bad answers").
  auto have = kube::CapacityOf(got->body, opt_.resource);
  if (!have.ok()) {
    return Status::Corruption("GET node " + opt_.node_name +
                              ": unusable answer: " + have.status().message());
  }
  std::optional<uint64_t> have_bytes;
  if (*have) have_bytes = kube::CapacityValue(**have);
  if (have_bytes && *have_bytes == *want) {
    stats_.registered = *want;
    spdlog::debug("{}: Node {} already has {} = {}", opt_.resource, opt_.node_name, opt_.resource,
                  **have);
    return Status::Ok();
  }
  auto patched = client_->CallWithRetry("PATCH", node_path + "/status",
                                        kube::CapacityPatch(opt_.resource, *want),
                                        kube::kJsonPatchContentType, retry);
  if (!patched.ok()) return patched.status();
  CONFCOM_RETURN_IF_ERROR(kube::ApiStatus(patched->status, patched->body,
                                          "PATCH node " + opt_.node_name + " status",
                                          "patch nodes/status"));
  stats_.patches++;
  stats_.registered = *want;
  spdlog::info("{}: Node {} status.capacity[{}] = {} bytes ({} MiB){}", opt_.resource,
               opt_.node_name, opt_.resource, *want, *want >> 20,
               *have ? " (was " + **have + ")" : "");
  return Status::Ok();
}

void EpcRegistrar::Run() {
  spdlog::info("{}: keeping Node {}'s capacity up to date through {}", opt_.resource,
               opt_.node_name, client_->credentials().Describe());
  for (;;) {
    Status st;
    // The thread's boundary: an exception from anything below (there should be none: JSON is
    // read with kube/json_fields.h) is a failed reconciliation, not std::terminate.
    try {
      st = ReconcileOnce();
    } catch (const std::exception& e) {
      st = Status::Internal(std::string("unexpected exception: ") + e.what());
    }
    if (Stopping()) return;
    std::chrono::milliseconds wait = opt_.resync;
    if (!st.ok()) {
      stats_.failures++;
      // Never longer than a resync: a fixed answer is picked up at least as soon.
      wait = std::min(opt_.backoff_max, opt_.resync);
      spdlog::error("{}: cannot set Node {}'s capacity: {}; trying again in {} ms", opt_.resource,
                    opt_.node_name, st.message(), wait.count());
    }
    std::unique_lock l(mu_);
    if (cv_.wait_for(l, wait, [this] { return stopping_; })) return;
  }
}

Result<std::unique_ptr<EpcRegistrar>> MakeEpcRegistrar(
    std::string node_name, const std::function<Result<kube::Credentials>()>& credentials,
    std::chrono::seconds resync, DiscoveryOptions discovery) {
  if (node_name.empty()) {
    const char* env = std::getenv("NODE_NAME");
    node_name = env ? env : "";
  }
  if (node_name.empty()) {
    return Status::InvalidArgument(
        "the node's name is unknown: set NODE_NAME (downward API "
        "fieldRef spec.nodeName) or --node-name");
  }
  auto creds = credentials();
  if (!creds.ok()) return creds.status();
  kube::ClientOptions client_options;
  client_options.max_response_bytes = kMaxNodeAnswerBytes;
  auto client = kube::ApiClient::Create(std::move(creds).value(), client_options);
  if (!client.ok()) return client.status();
  EpcRegistrarOptions o;
  o.node_name = node_name;
  o.resync = resync;
  auto epc_bytes = [discovery = std::move(discovery)]() -> Result<uint64_t> {
    auto d = Discover(discovery);
    if (!d.ok()) return d.status();
    return d->total_epc_bytes();
  };
  return std::make_unique<EpcRegistrar>(std::move(client).value(), epc_bytes, o);
}

}  // namespace confcom::deviceplugin
