#include "deviceplugin/sgx/epc_registrar.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <exception>

#include "common/logging.h"
#include "kube/api_status.h"
#include "kube/json_fields.h"
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
  // An outage: the first failed try is a warning, the next ones debug lines, and the first
  // answer after them one info line with how long and how many tries (issue 21: nothing was
  // logged when the API server came back).
  int failed_tries = 0;
  std::chrono::steady_clock::time_point down_since;
  retry.on_retry = [&](const std::string& what, std::chrono::milliseconds wait) {
    if (failed_tries++ == 0) {
      down_since = std::chrono::steady_clock::now();
      spdlog::warn("{}: API server not answering ({}); retrying with backoff up to {} ms",
                   opt_.resource, what, opt_.backoff_max.count());
    } else {
      spdlog::debug("{}: {}; next try in {} ms", opt_.resource, what, wait.count());
    }
  };
  auto answered = [&] {
    if (failed_tries == 0) return;
    const auto down = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - down_since);
    spdlog::info("{}: API server answering again after {:.1f} s ({} failed tries)", opt_.resource,
                 down.count() / 1000.0, failed_tries);
    stats_.recoveries++;
    failed_tries = 0;
  };
  auto got = client_->CallWithRetry("GET", node_path, "", "", retry);
  if (!got.ok()) return got.status();
  answered();
  if (Status st =
          kube::ApiStatus(got->status, got->body, "GET node " + opt_.node_name, "get nodes");
      !st.ok()) {
    if (got->status != 404) return st;
    return Status::NotFound(st.message() + " (is NODE_NAME this node's name?)");
  }
  stats_.checks++;
  // A wrong answer is reported with the field it has wrong, and tried again at the next
  // reconciliation; it never ends the plugin (docs/kubernetes-api.md, "Bad answers").
  auto entry = kube::ReadCapacity(got->body, opt_.resource);
  if (!entry.ok()) {
    return Status::Corruption("GET node " + opt_.node_name +
                              ": unusable answer: " + entry.status().message());
  }
  const std::optional<std::string>& have = entry->quantity;
  std::optional<uint64_t> have_bytes;
  if (have) have_bytes = kube::CapacityValue(*have);
  if (have_bytes && *have_bytes == *want) {
    stats_.registered = *want;
    spdlog::debug("{}: Node {} already has {} = {}", opt_.resource, opt_.node_name, opt_.resource,
                  *have);
    return Status::Ok();
  }
  // A Node without status.capacity gets the whole object (an "add" below a missing parent is
  // the API server's 422).
  const char* how = entry->parent == kube::CapacityParent::kCapacity     ? "add"
                    : entry->parent == kube::CapacityParent::kNoCapacity ? "add (with capacity)"
                                                                         : "add (with status)";
  auto patched = client_->CallWithRetry("PATCH", node_path + "/status",
                                        kube::CapacityPatch(opt_.resource, *want, entry->parent),
                                        kube::kJsonPatchContentType, retry);
  if (!patched.ok()) return patched.status();
  answered();
  CONFCOM_RETURN_IF_ERROR(kube::ApiStatus(patched->status, patched->body,
                                          "PATCH " + node_path + "/status (JSON patch: " + how +
                                              " status.capacity[" + opt_.resource +
                                              "] = " + std::to_string(*want) + ")",
                                          "patch nodes/status"));
  stats_.patches++;
  stats_.registered = *want;
  spdlog::info("{}: Node {} status.capacity[{}] = {} bytes ({} MiB){}", opt_.resource,
               opt_.node_name, opt_.resource, *want, *want >> 20,
               have ? " (was " + *have + ")" : "");
  return Status::Ok();
}

Result<OwnerDaemonSet> OwnerDaemonSet::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  OwnerDaemonSet o;
  if (slash != std::string_view::npos) {
    o.ns = std::string(text.substr(0, slash));
    o.name = std::string(text.substr(slash + 1));
  }
  if (!kube::IsDnsLabel(o.ns) || !kube::IsDnsSubdomain(o.name)) {
    return Status::InvalidArgument("'" + EscapeForLog(text.substr(0, 128)) +
                                   "' is not NAMESPACE/NAME of a DaemonSet");
  }
  return o;
}

Result<bool> EpcRegistrar::ReleaseIfOwnerGone(const OwnerDaemonSet& owner,
                                              std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const auto past_deadline = [deadline] { return std::chrono::steady_clock::now() > deadline; };
  const std::string ds = "DaemonSet " + owner.ns + "/" + owner.name;
  const std::string ds_path = "/apis/apps/v1/namespaces/" + kube::EscapePathSegment(owner.ns) +
                              "/daemonsets/" + kube::EscapePathSegment(owner.name);
  CONFCOM_ASSIGN_OR_RETURN(kube::Response got,
                           client_->Call("GET", ds_path, "", "", past_deadline));
  std::string why;
  if (got.status == 404) {
    why = ds + " is gone";
  } else if (Status st = kube::ApiStatus(
                 got.status, got.body, "GET " + ds,
                 "get daemonsets (resourceNames: [" + owner.name + "]) in namespace " + owner.ns);
             !st.ok()) {
    return st;
  } else {
    auto object = kube::ParseJsonObject(got.body, ds);
    if (!object.ok()) return object.status();
    CONFCOM_ASSIGN_OR_RETURN(
        const nlohmann::json* meta,
        kube::OptionalMember(*object, "DaemonSet", "metadata", kube::JsonType::kObject));
    std::optional<std::string> deleting;
    if (meta != nullptr) {
      CONFCOM_ASSIGN_OR_RETURN(
          deleting, kube::OptionalString(*meta, "DaemonSet.metadata", "deletionTimestamp"));
    }
    if (!deleting) {
      spdlog::info("{}: {} exists (a restart or an update): Node {} keeps {}", opt_.resource, ds,
                   opt_.node_name, opt_.resource);
      return false;
    }
    why = ds + " is being deleted (since " + EscapeForLog(*deleting) + ")";
  }
  const std::string node_path = "/api/v1/nodes/" + kube::EscapePathSegment(opt_.node_name);
  CONFCOM_ASSIGN_OR_RETURN(kube::Response node,
                           client_->Call("GET", node_path, "", "", past_deadline));
  CONFCOM_RETURN_IF_ERROR(
      kube::ApiStatus(node.status, node.body, "GET node " + opt_.node_name, "get nodes"));
  auto entry = kube::ReadCapacity(node.body, opt_.resource);
  if (!entry.ok()) return entry.status();
  if (!entry->quantity) {
    spdlog::info("{}: {}; Node {} has no {}: nothing to remove", opt_.resource, why, opt_.node_name,
                 opt_.resource);
    return false;
  }
  // Ours: what we last confirmed, else what this node has now (a plugin stopped before its
  // first reconciliation ended).
  uint64_t ours = stats_.registered.load();
  if (ours == 0) {
    auto now = epc_bytes_();
    if (now.ok()) ours = *now;
  }
  if (kube::CapacityValue(*entry->quantity) != std::optional<uint64_t>(ours)) {
    spdlog::warn("{}: {}; Node {} has {} = {}, not ours ({}): left alone", opt_.resource, why,
                 opt_.node_name, opt_.resource, EscapeForLog(*entry->quantity), ours);
    return false;
  }
  CONFCOM_ASSIGN_OR_RETURN(kube::Response patched,
                           client_->Call("PATCH", node_path + "/status",
                                         kube::CapacityRemovePatch(opt_.resource, *entry->quantity),
                                         kube::kJsonPatchContentType, past_deadline));
  CONFCOM_RETURN_IF_ERROR(kube::ApiStatus(
      patched.status, patched.body,
      "PATCH " + node_path + "/status (JSON patch: test and remove status.capacity[" +
          opt_.resource + "])",
      "patch nodes/status"));
  stats_.registered = 0;
  spdlog::info("{}: {} (an uninstall): removed {} = {} from Node {}'s capacity", opt_.resource, why,
               opt_.resource, *entry->quantity, opt_.node_name);
  return true;
}

void EpcRegistrar::Run() {
  spdlog::info("{}: keeping Node {}'s capacity up to date through {}", opt_.resource,
               opt_.node_name, client_->credentials().Describe());
  int failed_rounds = 0;
  std::chrono::steady_clock::time_point failing_since;
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
    if (st.ok() && failed_rounds > 0) {
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now() - failing_since);
      spdlog::info("{}: Node {}'s capacity is set again, after {} failed reconciliations over {} s",
                   opt_.resource, opt_.node_name, failed_rounds, secs.count());
      failed_rounds = 0;
    }
    if (!st.ok()) {
      if (failed_rounds++ == 0) failing_since = std::chrono::steady_clock::now();
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
