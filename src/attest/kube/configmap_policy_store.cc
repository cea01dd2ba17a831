#include "attest/kube/configmap_policy_store.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "kube/api_status.h"
#include "kube/json_fields.h"

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";

bool Ok2xx(long status) { return status >= 200 && status < 300; }

std::shared_ptr<const StoredPolicy> DefaultPolicy() {
  // kDefaultSgxPolicy is a constant the policy tests parse; a failure here is a build bug.
  static const std::shared_ptr<const StoredPolicy> stored =
      MakeStoredPolicy(Policy::Parse(kDefaultSgxPolicy).value(), /*is_default=*/true);
  return stored;
}

// metadata.resourceVersion of an API object. Errors: Corruption naming `what`.
Result<std::string> ResourceVersion(const json& object, const std::string& what) {
  auto meta = kube::RequiredMember(object, what, "metadata", kube::JsonType::kObject);
  if (!meta.ok()) return meta.status();
  auto rv = kube::RequiredString(**meta, what + ".metadata", "resourceVersion");
  if (!rv.ok() || rv->empty()) {
    return Status::Corruption(what + ": the answer has no metadata.resourceVersion");
  }
  return *rv;
}

}  // namespace

ConfigMapPolicyStore::ConfigMapPolicyStore(std::unique_ptr<kube::ApiClient> api,
                                           ConfigMapPolicyStoreOptions o)
    : options_(std::move(o)),
      path_("/api/v1/namespaces/" + kube::EscapePathSegment(options_.ns) + "/configmaps/" +
            kube::EscapePathSegment(options_.name)),
      what_("ConfigMap " + options_.ns + "/" + options_.name),
      api_(std::move(api)),
      current_(DefaultPolicy()) {}

Result<std::unique_ptr<ConfigMapPolicyStore>> ConfigMapPolicyStore::Create(
    std::unique_ptr<kube::ApiClient> api, ConfigMapPolicyStoreOptions options) {
  if (options.ns.empty() || options.name.empty()) {
    return Status::InvalidArgument("the policy ConfigMap needs a namespace and a name");
  }
  if (!api) return Status::InvalidArgument("the policy ConfigMap needs an API client");
  std::unique_ptr<ConfigMapPolicyStore> store(
      new ConfigMapPolicyStore(std::move(api), std::move(options)));
  {
    std::lock_guard<std::mutex> lock(store->api_mu_);
    CONFCOM_RETURN_IF_ERROR(store->ReadOnce(/*initial=*/true));
  }
  store->reader_ = std::thread([s = store.get()] { s->Loop(); });
  return store;
}

ConfigMapPolicyStore::~ConfigMapPolicyStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (reader_.joinable()) reader_.join();
}

std::shared_ptr<const StoredPolicy> ConfigMapPolicyStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status ConfigMapPolicyStore::last_read_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_read_;
}

void ConfigMapPolicyStore::Apply(std::shared_ptr<const StoredPolicy> p,
                                 std::string resource_version) {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_->hash != p->hash || current_->is_default != p->is_default) {
    spdlog::info("policy from {} (resourceVersion {}): {}, x-ms-policy-hash {}", what_,
                 resource_version.empty() ? "none" : resource_version,
                 p->is_default ? "the default policy" : "a custom policy", p->hash);
  }
  current_ = std::move(p);
  applied_version_ = std::move(resource_version);
}

Status ConfigMapPolicyStore::ReadOnce(bool initial) {
  const std::string rbac =
      "get configmaps in namespace " + options_.ns + " (resourceNames: [" + options_.name + "])";
  auto abort = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  };
  Result<kube::Response> got = Status::Internal("unset");
  if (initial) {
    // At start a short blip of the API server should not fail the pod: 3 tries over ~1.5 s.
    kube::RetryOptions retry;
    retry.attempts = 3;
    retry.initial = std::chrono::milliseconds(500);
    retry.stop = abort;
    got = api_->CallWithRetry("GET", path_, "", "", retry);
  } else {
    got = api_->Call("GET", path_, "", "", abort);
  }
  Status st;
  if (!got.ok()) {
    st = Status(got.status().code(), "reading " + what_ + ": " + got.status().message());
  } else if (got->status == 404) {
    Apply(DefaultPolicy(), "");
  } else if (!Ok2xx(got->status)) {
    st = kube::ApiStatus(got->status, got->body, "reading " + what_, rbac);
  } else {
    st = [&]() -> Status {
      CONFCOM_ASSIGN_OR_RETURN(json object, kube::ParseJsonObject(got->body, what_));
      CONFCOM_ASSIGN_OR_RETURN(std::string rv, ResourceVersion(object, what_));
      {
        std::lock_guard<std::mutex> lock(mu_);
        // Unchanged since the last read: nothing to parse or log again.
        if (!initial && rv == applied_version_) return Status::Ok();
        if (!initial && rv == refused_version_) return refused_;
      }
      CONFCOM_ASSIGN_OR_RETURN(
          const json* data, kube::OptionalMember(object, what_, "data", kube::JsonType::kObject));
      std::optional<std::string> text;
      if (data != nullptr) {
        CONFCOM_ASSIGN_OR_RETURN(text, kube::OptionalString(*data, what_ + ".data", options_.key));
      }
      if (!text) {
        Apply(DefaultPolicy(), rv);
        return Status::Ok();
      }
      auto policy = Policy::Parse(*text);
      if (!policy.ok()) {
        Status refused(policy.status().code(),
                       what_ + " data[" + options_.key + "] (resourceVersion " + rv +
                           ") is not a policy: " + policy.status().message());
        std::lock_guard<std::mutex> lock(mu_);
        refused_version_ = rv;  // parsed once, logged once
        refused_ = refused;
        return refused;
      }
      Apply(MakeStoredPolicy(*policy, /*is_default=*/false), rv);
      return Status::Ok();
    }();
  }
  if (st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!last_read_.ok()) spdlog::info("{} read again", what_);
    last_read_ = Status::Ok();
    return st;
  }
  bool news;  // logged when the error changes, not on every poll
  {
    std::lock_guard<std::mutex> lock(mu_);
    news = last_read_.ok() || last_read_.message() != st.message();
    last_read_ = st;
  }
  if (!initial && news) {
    spdlog::error("{}; the policy in force stays (x-ms-policy-hash {})", st.message(),
                  Current()->hash);
  }
  return st;
}

Status ConfigMapPolicyStore::Write(std::shared_ptr<const StoredPolicy> stored) {
  const std::string* text = stored->is_default ? nullptr : &stored->policy.text();
  const std::string rbac = "get, update and create configmaps in namespace " + options_.ns +
                           " (get/update with resourceNames: [" + options_.name + "])";
  const std::string collection =
      "/api/v1/namespaces/" + kube::EscapePathSegment(options_.ns) + "/configmaps";
  auto fail = [&](const Status& st) {
    return Status::Unavailable("writing the policy to " + what_ + ": " + st.message());
  };
  // Each round reads the ConfigMap and writes it under the resourceVersion read: a 409 means
  // another writer came first, so the next round starts from its object.
  for (int round = 0; round < options_.write_rounds; ++round) {
    auto got = api_->Call("GET", path_);
    if (!got.ok()) return fail(got.status());
    std::string method, target;
    json object;
    if (got->status == 404) {
      if (!text) {
        Apply(stored, "");
        return Status::Ok();
      }
      object = {{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata",
                 {{"name", options_.name},
                  {"namespace", options_.ns},
                  {"labels",
                   {{"app.kubernetes.io/name", "sgx-attest"},
                    {"app.kubernetes.io/part-of", "confcom"}}}}},
                {"data", {{options_.key, *text}}}};
      method = "POST";
      target = collection;
    } else if (!Ok2xx(got->status)) {
      return fail(kube::ApiStatus(got->status, got->body, "reading " + what_, rbac));
    } else {
      auto parsed = kube::ParseJsonObject(got->body, what_);
      if (!parsed.ok()) return fail(parsed.status());
      object = std::move(parsed).value();
      auto rv = ResourceVersion(object, what_);
      if (!rv.ok()) return fail(rv.status());
      if (object.contains("data") && !object["data"].is_object() && !object["data"].is_null()) {
        return fail(Status::Corruption(what_ + ".data is not an object"));
      }
      if (text) {
        object["data"][options_.key] = *text;
      } else {
        if (!object.contains("data") || !object["data"].is_object() ||
            !object["data"].contains(options_.key)) {
          Apply(stored, *rv);
          return Status::Ok();
        }
        object["data"].erase(options_.key);
      }
      method = "PUT";
      target = path_;
    }
    auto put = api_->Call(method, target, object.dump(), kJson);
    if (!put.ok()) return fail(put.status());
    if (put->status == 409) continue;
    if (!Ok2xx(put->status)) {
      return fail(kube::ApiStatus(put->status, put->body,
                                  (method == "POST" ? "creating " : "updating ") + what_, rbac));
    }
    auto written = kube::ParseJsonObject(put->body, what_);
    std::string rv;
    if (written.ok()) {
      auto v = ResourceVersion(*written, what_);
      if (v.ok()) rv = *v;
    }
    // Without a resourceVersion in the answer the next poll reads the object again.
    Apply(stored, rv);
    return Status::Ok();
  }
  return Status::Unavailable("writing the policy to " + what_ + ": " +
                             std::to_string(options_.write_rounds) +
                             " writes in a row lost to other writers (HTTP 409); try again");
}

Status ConfigMapPolicyStore::Set(const Policy& policy) {
  std::lock_guard<std::mutex> lock(api_mu_);
  return Write(MakeStoredPolicy(policy, /*is_default=*/false));
}

Status ConfigMapPolicyStore::Reset() {
  std::lock_guard<std::mutex> lock(api_mu_);
  return Write(DefaultPolicy());
}

void ConfigMapPolicyStore::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, options_.poll_interval, [this] { return stop_; });
      if (stop_) return;
    }
    std::lock_guard<std::mutex> lock(api_mu_);
    (void)ReadOnce(/*initial=*/false);  // logged inside; the policy in force stays
  }
}

}  // namespace confcom::attest
