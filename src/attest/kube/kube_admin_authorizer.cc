#include "attest/kube/kube_admin_authorizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/logging.h"
#include "crypto/crypto.h"
#include "kube/api_status.h"
#include "kube/json_fields.h"

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr char kTokenReviews[] = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr char kAccessReviews[] = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
// Service-account tokens are ~1 KiB, OIDC ID tokens a few KiB; 16 KiB bounds what we hash and
// send on.
constexpr size_t kMaxTokenBytes = 16 * 1024;

bool Ok2xx(long status) { return status >= 200 && status < 300; }

AdminDecision NotAuthenticated(std::string reason) {
  AdminDecision d;
  d.reason = std::move(reason);
  return d;
}

// The token of "Bearer <token>", or the reason it is not one.
Result<std::string> BearerTokenOf(std::string_view header) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  header = trim(header);
  if (header.empty()) {
    return Status::InvalidArgument(
        "no Authorization header: the administration API needs \"Authorization: Bearer "
        "<token>\" with a Kubernetes token for the audience sgx-attest");
  }
  const size_t space = header.find(' ');
  std::string scheme(header.substr(0, space));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "bearer") {
    return Status::InvalidArgument("the Authorization header is not \"Bearer <token>\"");
  }
  std::string_view token =
      space == std::string_view::npos ? std::string_view() : trim(header.substr(space + 1));
  if (token.empty()) return Status::InvalidArgument("the Authorization header has no token");
  if (token.size() > kMaxTokenBytes) {
    return Status::InvalidArgument("the bearer token is longer than 16 KiB");
  }
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return Status::InvalidArgument("the bearer token holds a byte that is not visible ASCII");
    }
  }
  return std::string(token);
}

std::string TokenKey(const std::string& token, PolicyAccess access) {
  const auto digest = crypto::Sha256(AsBytes(token));
  return ToHex(digest) + (access == PolicyAccess::kRead ? "/r" : "/w");
}

// POSTs a review object and returns its status member. Errors: Unavailable (says why).
Result<json> PostReview(kube::ApiClient& api, const char* path, const json& body,
                        const std::string& what, const std::string& rbac) {
  auto r = api.Call("POST", path, body.dump(), kJson);
  if (!r.ok()) return Status::Unavailable(what + ": " + r.status().message());
  if (!Ok2xx(r->status)) {
    Status st = kube::ApiStatus(r->status, r->body, what, rbac);
    return Status::Unavailable(st.message());
  }
  auto object = kube::ParseJsonObject(r->body, what);
  if (!object.ok()) return Status::Unavailable(object.status().message());
  auto status = kube::RequiredMember(*object, what, "status", kube::JsonType::kObject);
  if (!status.ok()) return Status::Unavailable(status.status().message());
  return **status;
}

}  // namespace

Result<std::unique_ptr<KubeAdminAuthorizer>> KubeAdminAuthorizer::Create(
    std::unique_ptr<kube::ApiClient> api, KubeAdminAuthorizerOptions options) {
  if (options.ns.empty() || options.configmap.empty()) {
    return Status::InvalidArgument(
        "the administration API needs the policy ConfigMap's "
        "namespace and name");
  }
  if (!api) return Status::InvalidArgument("the administration API needs an API client");
  return std::unique_ptr<KubeAdminAuthorizer>(
      new KubeAdminAuthorizer(std::move(api), std::move(options)));
}

Result<AdminDecision> KubeAdminAuthorizer::Decide(std::string_view authorization,
                                                  PolicyAccess access) {
  auto token = BearerTokenOf(authorization);
  if (!token.ok()) return NotAuthenticated(token.status().message());
  const std::string key = TokenKey(*token, access);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > now) return it->second.decision;
  }
  CONFCOM_ASSIGN_OR_RETURN(AdminDecision decision, Review(*token, access));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= options_.max_cache_entries) {
    std::erase_if(cache_, [&](const auto& e) { return e.second.expires <= now; });
  }
  while (!cache_.empty() && cache_.size() >= options_.max_cache_entries) {
    auto oldest = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    });
    cache_.erase(oldest);
  }
  if (options_.max_cache_entries > 0) {
    cache_[key] = Cached{decision, std::chrono::steady_clock::now() + options_.cache_ttl};
  }
  return decision;
}

Result<AdminDecision> KubeAdminAuthorizer::Review(const std::string& token, PolicyAccess access) {
  std::lock_guard<std::mutex> lock(api_mu_);
  json spec = {{"token", token}};
  if (!options_.audiences.empty()) spec["audiences"] = options_.audiences;
  CONFCOM_ASSIGN_OR_RETURN(
      json tr,
      PostReview(
          *api_, kTokenReviews,
          {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", spec}},
          "TokenReview", "create tokenreviews (a ClusterRole)"));
  const std::string where = "TokenReview.status";
  auto bad = [&](const Status& st) { return Status::Unavailable(st.message()); };
  auto authenticated = kube::OptionalMember(tr, where, "authenticated", kube::JsonType::kBoolean);
  if (!authenticated.ok()) return bad(authenticated.status());
  if (*authenticated == nullptr || !(*authenticated)->get<bool>()) {
    auto error = kube::OptionalString(tr, where, "error");
    std::string why = error.ok() && *error && !(*error)->empty()
                          ? EscapeForLog((*error)->substr(0, 300))
                          : "the API server did not authenticate it";
    return NotAuthenticated("the bearer token is not valid: " + why);
  }
  // The API server authenticates only for an audience we asked for; check it anyway, so a
  // token for another audience is never taken.
  if (!options_.audiences.empty()) {
    bool match = false;
    if (tr.contains("audiences") && tr["audiences"].is_array()) {
      for (const auto& a : tr["audiences"]) {
        match = match ||
                (a.is_string() && std::find(options_.audiences.begin(), options_.audiences.end(),
                                            a.get<std::string>()) != options_.audiences.end());
      }
    }
    if (!match) {
      return NotAuthenticated("the bearer token is not for the audience " +
                              options_.audiences.front());
    }
  }
  auto user = kube::RequiredMember(tr, where, "user", kube::JsonType::kObject);
  if (!user.ok()) return bad(user.status());
  const json& u = **user;
  auto username = kube::RequiredString(u, where + ".user", "username");
  if (!username.ok()) return bad(username.status());
  AdminDecision d;
  d.authenticated = true;
  d.user = *username;

  json sar_spec = {{"user", *username},
                   {"resourceAttributes",
                    {{"namespace", options_.ns},
                     {"verb", access == PolicyAccess::kRead ? "get" : "update"},
                     {"group", ""},
                     {"version", "v1"},
                     {"resource", "configmaps"},
                     {"name", options_.configmap}}}};
  for (const char* field : {"uid", "groups", "extra"}) {
    if (u.contains(field) && !u[field].is_null()) sar_spec[field] = u[field];
  }
  if (sar_spec.contains("uid") && !sar_spec["uid"].is_string()) {
    return Status::Unavailable(where + ".user.uid is not a string");
  }
  if (sar_spec.contains("groups") && !sar_spec["groups"].is_array()) {
    return Status::Unavailable(where + ".user.groups is not an array");
  }
  if (sar_spec.contains("extra") && !sar_spec["extra"].is_object()) {
    return Status::Unavailable(where + ".user.extra is not an object");
  }
  CONFCOM_ASSIGN_OR_RETURN(
      json sar, PostReview(*api_, kAccessReviews,
                           {{"apiVersion", "authorization.k8s.io/v1"},
                            {"kind", "SubjectAccessReview"},
                            {"spec", sar_spec}},
                           "SubjectAccessReview", "create subjectaccessreviews (a ClusterRole)"));
  auto allowed =
      kube::OptionalMember(sar, "SubjectAccessReview.status", "allowed", kube::JsonType::kBoolean);
  if (!allowed.ok()) return bad(allowed.status());
  d.allowed = *allowed != nullptr && (*allowed)->get<bool>();
  if (!d.allowed) {
    const std::string verb = access == PolicyAccess::kRead ? "get" : "update";
    d.reason = EscapeForLog(d.user) + " may not " + verb + " ConfigMap " + options_.ns + "/" +
               options_.configmap + " (RBAC: a Role with " + verb +
               " on configmaps, resourceNames: [" + options_.configmap + "])";
    auto reason = kube::OptionalString(sar, "SubjectAccessReview.status", "reason");
    if (reason.ok() && *reason && !(*reason)->empty()) {
      d.reason += ": " + EscapeForLog((*reason)->substr(0, 300));
    }
  }
  return d;
}

}  // namespace confcom::attest
