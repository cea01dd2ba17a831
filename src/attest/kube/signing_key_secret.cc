#include "attest/kube/signing_key_secret.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "attest/token/signing.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "kube/api_status.h"
#include "kube/base64.h"
#include "kube/json_fields.h"

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr char kTlsType[] = "kubernetes.io/tls";

bool Ok2xx(long status) { return status >= 200 && status < 300; }

struct KeyPem {
  std::string key, cert;
};

std::string SecretsPath(const SigningKeySecretOptions& o) {
  return "/api/v1/namespaces/" + kube::EscapePathSegment(o.ns) + "/secrets";
}

json SecretObject(const SigningKeySecretOptions& o, const KeyPem& k,
                  const std::string& resource_version) {
  json meta = {{"name", o.secret_name},
               {"namespace", o.ns},
               {"labels",
                {{"app.kubernetes.io/name", "sgx-attest"},
                 {"app.kubernetes.io/component", "signing-key"},
                 {"app.kubernetes.io/part-of", "confcom"},
                 {"app.kubernetes.io/managed-by", "sgx-attest-keygen"}}}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  return {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", meta},
      {"type", kTlsType},
      {"data", {{"tls.crt", kube::Base64Encode(k.cert)}, {"tls.key", kube::Base64Encode(k.key)}}}};
}

// The key and certificate of a Secret object, or why they are unusable.
Result<KeyPem> KeyOf(const json& secret) {
  if (!secret.contains("data") || !secret["data"].is_object()) {
    return Status::Corruption("it has no data");
  }
  const json& d = secret["data"];
  KeyPem k;
  for (auto [name, out] : {std::pair{"tls.crt", &k.cert}, std::pair{"tls.key", &k.key}}) {
    if (!d.contains(name) || !d[name].is_string())
      return Status::Corruption(std::string("no ") + name);
    auto v = kube::Base64Decode(d[name].get<std::string>());
    if (!v.ok()) return Status::Corruption(std::string(name) + " is not base64");
    *out = std::move(v).value();
  }
  return k;
}

// Why `k` cannot be reused for `o` at `now` (OK: it can), and its SigningKey.
Status CheckKey(const KeyPem& k, const SigningKeySecretOptions& o, std::time_t now,
                std::optional<SigningKey>* parsed) {
  auto key = SigningKey::FromPem(k.key, k.cert);
  if (!key.ok()) return Status::InvalidArgument("its key is unusable: " + key.status().message());
  *parsed = *key;
  if (key->common_name() != o.issuer) {
    return Status::InvalidArgument("its certificate is for CN=" + EscapeForLog(key->common_name()) +
                                   ", not the issuer " + o.issuer);
  }
  if (key->not_before() > now) {
    return Status::InvalidArgument("its certificate is not valid before " +
                                   FormatRfc3339(key->not_before()));
  }
  if (key->not_after() - static_cast<std::time_t>(o.renew_before.count()) <= now) {
    return Status::InvalidArgument("its certificate expires " + FormatRfc3339(key->not_after()));
  }
  return Status::Ok();
}

Result<kube::Response> Call(kube::ApiClient& api, const SigningKeySecretOptions& o,
                            const std::string& method, const std::string& path,
                            const std::string& body = "") {
  return api.CallWithRetry(method, path, body, body.empty() ? "" : kJson, o.retry);
}

// One round: read, reuse or make, write. AlreadyExists when another writer came first.
Status EnsureOnce(kube::ApiClient& api, const SigningKeySecretOptions& o, std::time_t now,
                  KeyPem* in_use, SigningKeySecretOutcome* out) {
  const std::string what = "Secret " + o.ns + "/" + o.secret_name;
  const std::string path = SecretsPath(o) + "/" + kube::EscapePathSegment(o.secret_name);
  const std::string rbac = "get, create and update secrets in namespace " + o.ns +
                           " (get/update with resourceNames: [" + o.secret_name + "])";
  const int lost = out->lost_races;
  *out = SigningKeySecretOutcome{};
  out->lost_races = lost;

  CONFCOM_ASSIGN_OR_RETURN(kube::Response got, Call(api, o, "GET", path));
  std::string resource_version;
  if (got.status == 404) {
    out->why_new = "the Secret does not exist";
  } else if (!Ok2xx(got.status)) {
    return kube::ApiStatus(got.status, got.body, "reading " + what, rbac);
  } else {
    CONFCOM_ASSIGN_OR_RETURN(json secret, kube::ParseJsonObject(got.body, what));
    auto type = kube::OptionalString(secret, what, "type");
    const std::string t = type.ok() && *type ? **type : "Opaque";
    if (t != kTlsType) {
      return Status::InvalidArgument(what + " exists with type " + EscapeForLog(t) + ", not " +
                                     kTlsType +
                                     " (the type cannot change): delete it or choose another "
                                     "--secret-name");
    }
    auto meta = kube::RequiredMember(secret, what, "metadata", kube::JsonType::kObject);
    if (meta.ok()) {
      auto rv = kube::RequiredString(**meta, what + ".metadata", "resourceVersion");
      if (rv.ok()) resource_version = *rv;
    }
    if (resource_version.empty()) {
      return Status::Corruption(what + ": the answer has no metadata.resourceVersion");
    }
    auto k = KeyOf(secret);
    std::optional<SigningKey> parsed;
    Status check = k.ok() ? CheckKey(*k, o, now, &parsed)
                          : Status::InvalidArgument("its key is unusable: " + k.status().message());
    if (check.ok()) {
      out->secret = SigningKeySecretOutcome::Secret::kReused;
      out->kid = parsed->kid();
      out->not_after = parsed->not_after();
      *in_use = *k;
      return Status::Ok();
    }
    out->why_new = check.message();
  }

  CONFCOM_ASSIGN_OR_RETURN(
      SigningKey key,
      SigningKey::Generate(o.issuer, now - 300,  // 5 min back: clock skew of relying parties
                           now + static_cast<std::time_t>(o.validity.count())));
  CONFCOM_ASSIGN_OR_RETURN(std::string key_pem, key.PrivateKeyPem());
  KeyPem fresh{std::move(key_pem), key.CertificatePem()};
  // A 409 is another keygen that won (two replicas starting at once): the caller's next round
  // reads its Secret and uses that key.
  if (resource_version.empty()) {
    CONFCOM_ASSIGN_OR_RETURN(
        kube::Response r, Call(api, o, "POST", SecretsPath(o), SecretObject(o, fresh, "").dump()));
    if (!Ok2xx(r.status)) return kube::ApiStatus(r.status, r.body, "creating " + what, rbac);
    out->secret = SigningKeySecretOutcome::Secret::kCreated;
  } else {
    CONFCOM_ASSIGN_OR_RETURN(
        kube::Response r,
        Call(api, o, "PUT", path, SecretObject(o, fresh, resource_version).dump()));
    if (!Ok2xx(r.status)) return kube::ApiStatus(r.status, r.body, "replacing " + what, rbac);
    out->secret = SigningKeySecretOutcome::Secret::kReplaced;
  }
  out->kid = key.kid();
  out->not_after = key.not_after();
  *in_use = std::move(fresh);
  return Status::Ok();
}

}  // namespace

Result<SigningKeySecretOutcome> EnsureSigningKeySecret(kube::ApiClient& api,
                                                       const SigningKeySecretOptions& o) {
  if (o.issuer.empty()) return Status::InvalidArgument("keygen needs the issuer (--issuer)");
  if (o.issuer.back() == '/') {
    return Status::InvalidArgument("the issuer " + o.issuer +
                                   " ends with '/': tokens carry it without one");
  }
  const std::time_t now = o.now != 0 ? o.now : std::time(nullptr);
  SigningKeySecretOutcome out;
  KeyPem in_use;
  Status st;
  for (int round = 0; round < kKeygenRounds; ++round) {
    st = EnsureOnce(api, o, now, &in_use, &out);
    if (st.code() != Status::Code::kAlreadyExists) break;
    ++out.lost_races;
  }
  if (!st.ok()) return st;
  if (!o.write_dir.empty()) {
    for (auto [name, data, mode] :
         {std::tuple{"tls.key", &in_use.key, 0600}, std::tuple{"tls.crt", &in_use.cert, 0644}}) {
      const std::string file = o.write_dir + "/" + name;
      if (Status w = WriteFileAtomic(file, *data, static_cast<mode_t>(mode)); !w.ok()) {
        return Status(w.code(), "writing " + file + ": " + w.message());
      }
    }
  }
  return out;
}

}  // namespace confcom::attest
