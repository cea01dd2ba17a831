// webhook_review_fuzzer: what reaches sgx-webhook's POST /mutate-pods and /validate-pods.
//
// Input: byte 0 picks the operation (bit 0: mutate/validate) and the Content-Type (bit 1:
// application/json or text/plain); the rest is the request body, given to HandleReview as the
// server does.
//
// Invariants checked:
//  - never a 500 (an exception we did not foresee) and never a status other than 200, 400, 415;
//  - a 200 is an admission.k8s.io/v1 AdmissionReview echoing the request's uid;
//  - a patch is base64 of a JSON array that applies (RFC 6902, nlohmann's implementation) to
//    the request's object, and mutating the patched pod again gives no patch (idempotency);
//  - the mutation never makes an allowed pod denied (it grants nothing validation refuses).
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "webhook/admission_review.h"
#include "webhook/pod_mutator.h"
#include "webhook/pod_validator.h"

using namespace confcom::webhook;
using nlohmann::json;

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  fprintf(stderr, "webhook_review_fuzzer: %s: %s\n", what, detail.substr(0, 2000).c_str());
  abort();
}

std::string Unbase64(const std::string& b64) {
  std::string out(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), int(b64.size()));
  if (n < 0) Fail("patch is not base64", b64);
  out.resize(size_t(n));
  size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') ++pad;
  if (b64.size() > 1 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(out.size() - pad);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const ReviewOperation op = (data[0] & 1) ? ReviewOperation::kValidate : ReviewOperation::kMutate;
  const char* content_type = (data[0] & 2) ? "text/plain" : "application/json";
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  WebhookConfig config;
  config.allow_provision_namespaces = {"trusted"};
  HttpReply reply = HandleReview(op, content_type, body, config);
  if (reply.status != 200 && reply.status != 400 && reply.status != 415)
    Fail("unexpected status", reply.body);
  if (reply.status != 200) return 0;
  json resp = json::parse(reply.body, nullptr, false);
  if (resp.is_discarded() || resp["apiVersion"] != "admission.k8s.io/v1" ||
      resp["kind"] != "AdmissionReview") {
    Fail("not an AdmissionReview", reply.body);
  }
  json review = json::parse(body);
  if (resp["response"]["uid"] != review["request"]["uid"]) Fail("uid not echoed", reply.body);
  if (op != ReviewOperation::kMutate || !resp["response"].contains("patch")) return 0;
  json patch = json::parse(Unbase64(resp["response"]["patch"].get<std::string>()), nullptr, false);
  if (!patch.is_array() || patch.empty()) Fail("patch is not a non-empty JSON array", reply.body);
  const json& pod = review["request"]["object"];
  json patched;
  try {
    patched = pod.patch(patch);
  } catch (const std::exception& e) {
    Fail("patch does not apply", std::string(e.what()) + " " + patch.dump());
  }
  std::string ns = review["request"].value("namespace", "");
  if (!MutatePod(patched, ns, config).patch.empty()) Fail("not idempotent", patch.dump());
  if (ValidatePod(pod, ns, "", config).allowed && !ValidatePod(patched, ns, "", config).allowed) {
    Fail("the mutation made an allowed pod denied", patch.dump());
  }
  return 0;
}
