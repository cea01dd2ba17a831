#include "webhook/certgen/certgen_run.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "common/file_util.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "kube/api_status.h"
#include "kube/json_fields.h"
#include "webhook/certgen/tls_bundle.h"

namespace confcom::webhook::certgen {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr char kJsonPatch[] = "application/json-patch+json";
constexpr char kMergePatch[] = "application/merge-patch+json";
constexpr char kTlsType[] = "kubernetes.io/tls";
constexpr char kAdmissionApi[] = "/apis/admissionregistration.k8s.io/v1/";

bool Ok2xx(long status) { return status >= 200 && status < 300; }

struct Api {
  kube::ApiClient& client;
  const kube::RetryOptions& retry;
  Result<kube::Response> Call(const std::string& method, const std::string& path,
                              const std::string& body = "", const std::string& type = "") {
    return client.CallWithRetry(method, path, body, type, retry);
  }
};

struct Config {
  std::string kind;      // MutatingWebhookConfiguration
  std::string resource;  // mutatingwebhookconfigurations
  std::string name;
  std::string What() const { return kind + " " + name; }
  std::string Path() const {
    return kAdmissionApi + resource + "/" + kube::EscapePathSegment(name);
  }
};

// Whether a webhook's caBundle (base64 of PEM) already trusts every certificate of `want_pem`
// (it may trust more: during a renewal the CA that pods started before it still serve with).
bool Trusts(const json& ca_bundle_b64, const std::string& want_pem, bool exact) {
  if (!ca_bundle_b64.is_string()) return false;
  if (exact) return ca_bundle_b64.get<std::string>() == Base64Encode(want_pem);
  auto have = Base64Decode(ca_bundle_b64.get<std::string>());
  return have.ok() && have->find(want_pem) != std::string::npos;
}

// The caBundle patch of `config` (empty when every webhook already trusts `bundle_pem`; with
// `exact`, only when its caBundle is exactly that).
Result<std::string> CaBundlePatch(const Config& config, const json& object,
                                  const std::string& bundle_pem, bool exact) {
  const std::string bundle_b64 = Base64Encode(bundle_pem);
  if (!object.is_object() || !object.contains("webhooks") || !object["webhooks"].is_array() ||
      object["webhooks"].empty()) {
    return Status::InvalidArgument(config.What() + " has no webhooks");
  }
  json patch = json::array();
  bool changed = false;
  const json& hooks = object["webhooks"];
  for (size_t i = 0; i < hooks.size(); ++i) {
    const json& h = hooks[i];
    if (!h.is_object() || !h.contains("name") || !h["name"].is_string()) {
      return Status::InvalidArgument(config.What() + ": webhook " + std::to_string(i) +
                                     " has no name");
    }
    const std::string base = "/webhooks/" + std::to_string(i);
    const json* cc = h.contains("clientConfig") ? &h["clientConfig"] : nullptr;
    if (cc && cc->is_object() && cc->contains("caBundle") &&
        Trusts((*cc)["caBundle"], bundle_pem, exact)) {
      continue;
    }
    changed = true;
    patch.push_back({{"op", "test"}, {"path", base + "/name"}, {"value", h["name"]}});
    if (!cc || !cc->is_object()) {
      patch.push_back(
          {{"op", "add"}, {"path", base + "/clientConfig"}, {"value", {{"caBundle", bundle_b64}}}});
    } else {
      // "add" on an existing member replaces it (RFC 6902 4.1).
      patch.push_back(
          {{"op", "add"}, {"path", base + "/clientConfig/caBundle"}, {"value", bundle_b64}});
    }
  }
  return changed ? patch.dump() : std::string();
}

// Sets the caBundle of every webhook of `config` (see CaBundlePatch for `exact`); true when it
// patched, false when unchanged.
Result<bool> SetCaBundle(Api& api, const Config& config, const std::string& ca_pem, bool exact) {
  CONFCOM_ASSIGN_OR_RETURN(kube::Response got, api.Call("GET", config.Path()));
  if (!Ok2xx(got.status)) {
    if (got.status == 404) {
      return Status::NotFound(config.What() +
                              " does not exist: apply the webhook's manifests "
                              "(deploy/components/webhook) before running certgen");
    }
    return kube::ApiStatus(got.status, got.body, "reading " + config.What(),
                           "get " + config.resource + " (resourceNames: [" + config.name + "])");
  }
  // Bounded in depth, and not JSON or not an object is an error that says so (json_fields.h).
  auto object = kube::ParseJsonObject(got.body, config.What());
  if (!object.ok()) return object.status();
  CONFCOM_ASSIGN_OR_RETURN(std::string patch, CaBundlePatch(config, *object, ca_pem, exact));
  if (patch.empty()) return false;
  CONFCOM_ASSIGN_OR_RETURN(kube::Response r, api.Call("PATCH", config.Path(), patch, kJsonPatch));
  if (!Ok2xx(r.status)) {
    return kube::ApiStatus(r.status, r.body, "setting the caBundle of " + config.What(),
                           "patch " + config.resource + " (resourceNames: [" + config.name + "])");
  }
  return true;
}

// Sets the caBundle of both webhook configurations, listing each in out->patched or
// out->unchanged. Errors: SetCaBundle's, for the first configuration that fails.
Status SetBothCaBundles(Api& api, const CertgenOptions& o, const std::string& ca_pem, bool exact,
                        CertgenOutcome* out) {
  if (!o.patch_webhooks) return Status::Ok();
  for (const Config& c :
       {Config{"MutatingWebhookConfiguration", "mutatingwebhookconfigurations", o.mutating_config},
        Config{"ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
               o.validating_config}}) {
    CONFCOM_ASSIGN_OR_RETURN(bool patched, SetCaBundle(api, c, ca_pem, exact));
    (patched ? out->patched : out->unchanged).push_back(c.What());
  }
  return Status::Ok();
}

std::string SecretsPath(const CertgenOptions& o) {
  return "/api/v1/namespaces/" + kube::EscapePathSegment(o.ns) + "/secrets";
}

json SecretObject(const CertgenOptions& o, const TlsBundle& b,
                  const std::string& resource_version) {
  json meta = {{"name", o.secret_name},
               {"namespace", o.ns},
               {"labels",
                {{"app.kubernetes.io/name", o.service},
                 {"app.kubernetes.io/component", "webhook"},
                 {"app.kubernetes.io/part-of", "confcom"},
                 {"app.kubernetes.io/managed-by", "sgx-webhook-certgen"}}}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", meta},
          {"type", kTlsType},
          {"data",
           {{"tls.crt", Base64Encode(b.tls_crt)},
            {"tls.key", Base64Encode(b.tls_key)},
            {"ca.crt", Base64Encode(b.ca_crt)}}}};
}

// The bundle stored in a Secret object (fields missing or not base64: an error).
Result<TlsBundle> BundleOf(const json& secret) {
  if (!secret.contains("data") || !secret["data"].is_object()) {
    return Status::Corruption("it has no data");
  }
  const json& d = secret["data"];
  TlsBundle b;
  for (auto [key, out] : {std::pair{"tls.crt", &b.tls_crt}, std::pair{"tls.key", &b.tls_key},
                          std::pair{"ca.crt", &b.ca_crt}}) {
    if (!d.contains(key) || !d[key].is_string())
      return Status::Corruption(std::string("no ") + key);
    auto v = Base64Decode(d[key].get<std::string>());
    if (!v.ok()) return Status::Corruption(std::string(key) + " is not base64");
    *out = std::move(v).value();
  }
  return b;
}

// One round of EnsureWebhookCertificates: reads the Secret, reuses or makes the bundle, sets
// the caBundles, writes the Secret. `*old_ca` carries a still-valid CA the webhook pods may
// serve with from the first round to the next (a lost race must not drop it); `*in_use` is
// the bundle the Secret holds afterwards. Errors as EnsureWebhookCertificates; AlreadyExists
// when another writer created or replaced the Secret in between (the caller runs again).
Status EnsureOnce(Api& api, const CertgenOptions& o, std::time_t now, std::string* old_ca,
                  TlsBundle* in_use, CertgenOutcome* out) {
  const auto names = ServiceDnsNames(o.service, o.ns);
  const std::string secret_what = "Secret " + o.ns + "/" + o.secret_name;
  const std::string secret_path = SecretsPath(o) + "/" + kube::EscapePathSegment(o.secret_name);
  const std::string secret_rule = "get, create and update secrets in namespace " + o.ns +
                                  " (get/update with resourceNames: [" + o.secret_name + "])";
  *out = CertgenOutcome{};

  CONFCOM_ASSIGN_OR_RETURN(kube::Response got, api.Call("GET", secret_path));
  std::string resource_version;
  std::optional<TlsBundle> current;
  if (got.status == 404) {
    out->why_new = "the Secret does not exist";
  } else if (!Ok2xx(got.status)) {
    return kube::ApiStatus(got.status, got.body, "reading " + secret_what, secret_rule);
  } else {
    auto parsed = kube::ParseJsonObject(got.body, secret_what);
    if (!parsed.ok()) return parsed.status();
    const json& secret = *parsed;
    // Fields read defensively: a malformed answer is an error, never an exception.
    const std::string type = secret.contains("type") && secret["type"].is_string()
                                 ? secret["type"].get<std::string>()
                                 : "Opaque";
    if (type != kTlsType) {
      return Status::InvalidArgument(secret_what + " exists with type " + EscapeForLog(type) +
                                     ", not " + kTlsType +
                                     " (the type cannot change): delete it "
                                     "or choose another --secret-name");
    }
    if (secret.contains("metadata") && secret["metadata"].is_object() &&
        secret["metadata"].contains("resourceVersion") &&
        secret["metadata"]["resourceVersion"].is_string()) {
      resource_version = secret["metadata"]["resourceVersion"].get<std::string>();
    }
    if (resource_version.empty()) {
      return Status::Corruption(secret_what + ": the answer has no metadata.resourceVersion");
    }
    auto bundle = BundleOf(secret);
    if (!bundle.ok()) {
      out->why_new = "the Secret's certificate is unusable: " + bundle.status().message();
    } else {
      Status check = CheckBundle(*bundle, names, now, o.renew_before);
      if (check.ok()) {
        current = *bundle;
      } else {
        out->why_new = check.message();
        // Keep trusting the old CA during the switch while it still verifies anything.
        if (CheckBundle(*bundle, names, now, std::chrono::seconds(0)).ok()) {
          *old_ca = bundle->ca_crt;
        }
      }
    }
  }

  if (current) {
    out->secret = CertgenOutcome::Secret::kReused;
    out->not_after = NotAfter(current->tls_crt);
    *in_use = *current;
    // Every webhook must trust the Secret's CA. One that already does is left alone, even if
    // it trusts the CA before a renewal too: pods started before the renewal may still serve
    // with it (each webhook pod renews at its own start, docs/webhook-deployment.md).
    const std::string carried = *old_ca == current->ca_crt ? "" : *old_ca;
    return SetBothCaBundles(api, o, current->ca_crt + carried, /*exact=*/false, out);
  }
  CONFCOM_ASSIGN_OR_RETURN(TlsBundle fresh,
                           GenerateBundle(names, now, o.ca_validity, o.cert_validity));
  out->not_after = NotAfter(fresh.tls_crt);
  // Old and new CA trusted before the Secret changes: no window in which the API server
  // rejects what the webhook pods serve.
  CONFCOM_RETURN_IF_ERROR(SetBothCaBundles(api, o, fresh.ca_crt + *old_ca, /*exact=*/true, out));
  // A 409 here is another writer that won (two webhook pods starting at once): the caller
  // reads its Secret and trusts its CA instead of ours.
  if (resource_version.empty()) {
    const std::string body = SecretObject(o, fresh, "").dump();
    CONFCOM_ASSIGN_OR_RETURN(kube::Response r, api.Call("POST", SecretsPath(o), body, kJson));
    if (!Ok2xx(r.status)) {
      return kube::ApiStatus(r.status, r.body, "creating " + secret_what, secret_rule);
    }
    out->secret = CertgenOutcome::Secret::kCreated;
  } else {
    const std::string body = SecretObject(o, fresh, resource_version).dump();
    CONFCOM_ASSIGN_OR_RETURN(kube::Response r, api.Call("PUT", secret_path, body, kJson));
    if (!Ok2xx(r.status)) {
      return kube::ApiStatus(r.status, r.body, "replacing " + secret_what, secret_rule);
    }
    out->secret = CertgenOutcome::Secret::kReplaced;
  }
  *in_use = std::move(fresh);
  return Status::Ok();
}

// Writes the bundle's files into `dir` (tls.crt, tls.key, ca.crt; mode 0600, each replaced
// atomically so a reader never sees half a key).
Status WriteBundleFiles(const std::string& dir, const TlsBundle& b) {
  for (auto [name, data] : {std::pair{"tls.crt", &b.tls_crt}, std::pair{"tls.key", &b.tls_key},
                            std::pair{"ca.crt", &b.ca_crt}}) {
    if (Status st = WriteFileAtomic(dir + "/" + name, *data, 0600); !st.ok()) {
      return Status(st.code(), "writing " + dir + "/" + name + ": " + st.message());
    }
  }
  return Status::Ok();
}

// Rolls Deployment `o.restart_deployment` by setting kRenewedAtAnnotation on its pod template
// (a JSON merge patch: other annotations, e.g. kubectl's restartedAt, stay). Errors: NotFound
// when it does not exist, the API's answer otherwise (a 403 names the missing permission).
Status RestartDeployment(Api& api, const CertgenOptions& o, std::time_t now) {
  const std::string what = "Deployment " + o.ns + "/" + o.restart_deployment;
  const std::string path = "/apis/apps/v1/namespaces/" + kube::EscapePathSegment(o.ns) +
                           "/deployments/" + kube::EscapePathSegment(o.restart_deployment);
  const json patch = {
      {"spec",
       {{"template",
         {{"metadata", {{"annotations", {{kRenewedAtAnnotation, FormatRfc3339(now)}}}}}}}}}};
  CONFCOM_ASSIGN_OR_RETURN(kube::Response r, api.Call("PATCH", path, patch.dump(), kMergePatch));
  const std::string by_hand =
      " (the new certificate is in the Secret; until the pods restart they serve the old one: "
      "kubectl -n " +
      o.ns + " rollout restart deployment/" + o.restart_deployment + ")";
  if (r.status == 404) return Status::NotFound(what + " does not exist" + by_hand);
  if (!Ok2xx(r.status)) {
    Status st = kube::ApiStatus(r.status, r.body, "restarting " + what,
                                "patch deployments in namespace " + o.ns + " (resourceNames: [" +
                                    o.restart_deployment + "])");
    return Status(st.code(), st.message() + by_hand);
  }
  return Status::Ok();
}

}  // namespace

Result<CertgenOutcome> EnsureWebhookCertificates(kube::ApiClient& client, const CertgenOptions& o) {
  Api api{client, o.retry};
  const std::time_t now = o.now != 0 ? o.now : std::time(nullptr);
  CertgenOutcome out;
  std::string old_ca;
  TlsBundle in_use;
  Status st;
  int lost = 0;
  // Each lost race means another writer's Secret now exists and is valid, so the next round
  // reuses it; 3 rounds cover two writers and one renewal racing (docs/webhook-deployment.md).
  for (int round = 0; round < kCertgenRounds; ++round) {
    st = EnsureOnce(api, o, now, &old_ca, &in_use, &out);
    if (st.code() != Status::Code::kAlreadyExists) break;
    ++lost;
  }
  if (!st.ok()) return st;
  out.lost_races = lost;
  if (!o.write_dir.empty()) CONFCOM_RETURN_IF_ERROR(WriteBundleFiles(o.write_dir, in_use));
  // Only a new certificate needs new pods: a reuse leaves the Deployment alone (a daily
  // CronJob must not roll the webhook every day).
  if (!o.restart_deployment.empty() && out.secret != CertgenOutcome::Secret::kReused) {
    CONFCOM_RETURN_IF_ERROR(RestartDeployment(api, o, now));
    out.restarted = "Deployment " + o.ns + "/" + o.restart_deployment;
  }
  return out;
}

}  // namespace confcom::webhook::certgen
