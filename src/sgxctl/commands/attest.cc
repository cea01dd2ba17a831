// sgxctl attest: a quote sent to an sgx-attest (or any MAA-compatible) service; the token's
// claims printed once the token verifies against the service's GET /certs.
// Exit codes: 0 a token that verifies; 1 the service refused the quote (its MAA error printed
// as it came) or its token does not verify; 2 the inputs could not be used (flags, files, URL,
// the service unreachable).
#include <httplib.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/token/claims.h"
#include "attest/token/request.h"
#include "attest/token/signing.h"
#include "common/file_util.h"
#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"

namespace confcom::sgxctl {
namespace {

using nlohmann::json;

int Usage(const std::string& message) {
  std::fprintf(stderr, "sgxctl: %s\n", message.c_str());
  return 2;
}

// The payload of a compact JWS without checking it (for the unsecured draft-policy token).
Result<json> UnverifiedPayload(const std::string& token) {
  size_t a = token.find('.');
  size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) return Status::InvalidArgument("the token is not a compact JWS");
  CONFCOM_ASSIGN_OR_RETURN(Bytes payload,
                           attest::DecodeBase64Any(token.substr(a + 1, b - a - 1), "payload"));
  json claims = json::parse(AsChars(payload), nullptr, false);
  if (!claims.is_object()) return Status::InvalidArgument("the token's payload is not JSON");
  return claims;
}

std::string Show(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return "(absent)";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

class AttestCommand final : public Command {
 public:
  const char* name() const override { return "attest"; }
  const char* help() const override {
    return "Attest a quote with an sgx-attest (or Azure Attestation) service: POST "
           "/attest/SgxEnclave, check the token against its GET /certs and print its claims. "
           "Exit 0 for a token that verifies; 1 if the service refuses the quote (its error "
           "printed as it came) or the token does not verify; 2 if the inputs cannot be used or "
           "the service cannot be reached.";
  }
  void Setup(CLI::App& sub) override {
    sub.add_option("--url", url_, "The service's base URL (https://sgx-attest.confcom:8443)")
        ->required();
    sub.add_option("--quote", quote_, "Quote file (with --openenclave: an Open Enclave report)")
        ->required();
    auto* bin = sub.add_option("--runtime-data", runtime_data_,
                               "File whose bytes go in runtimeData as Binary (its SHA-256 must "
                               "start the quote's REPORTDATA)");
    auto* js = sub.add_option("--runtime-json", runtime_json_,
                              "File of JSON that goes in runtimeData as JSON");
    bin->excludes(js);
    js->excludes(bin);
    sub.add_option("--cacert", cacert_,
                   "CA certificate (PEM) the service's TLS certificate "
                   "chains to; default the system's");
    sub.add_option("--api-version", api_version_, "The api-version query parameter")
        ->capture_default_str();
    sub.add_option("--draft-policy", draft_policy_,
                   "Policy file evaluated for this call only (an unsecured token comes back)");
    sub.add_flag("--openenclave", open_enclave_,
                 "Send the file as an Open Enclave report to /attest/OpenEnclave");
    sub.add_option("-o,--output", output_, "Write the token to this file");
  }

  int Run() override {
    auto evidence = ReadFile(quote_);
    if (!evidence.ok()) return Usage("--quote: " + evidence.status().ToString());
    json body = {{open_enclave_ ? "report" : "quote", attest::Base64UrlEncode(AsBytes(*evidence))}};
    if (!runtime_data_.empty() || !runtime_json_.empty()) {
      bool binary = !runtime_data_.empty();
      auto data = ReadFile(binary ? runtime_data_ : runtime_json_);
      if (!data.ok()) return Usage(data.status().ToString());
      body["runtimeData"] = {{"data", attest::Base64UrlEncode(AsBytes(*data))},
                             {"dataType", binary ? "Binary" : "JSON"}};
    }
    if (!draft_policy_.empty()) {
      auto policy = ReadFile(draft_policy_);
      if (!policy.ok()) return Usage("--draft-policy: " + policy.status().ToString());
      body["draftPolicyForAttestation"] = *policy;
    }
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    httplib::Client client(url_);
    if (!client.is_valid()) return Usage("--url: not a usable URL: " + url_);
    if (!cacert_.empty()) client.set_ca_cert_path(cacert_.c_str());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(10, 0);
    client.set_read_timeout(30, 0);
    const std::string route = open_enclave_ ? "/attest/OpenEnclave" : "/attest/SgxEnclave";
    auto res = client.Post(route + "?api-version=" + api_version_, body.dump(), "application/json");
    if (!res) return Usage(url_ + route + ": " + httplib::to_string(res.error()));
    json answer = json::parse(res->body, nullptr, false);
    if (res->status != 200) {
      // MAA's shape {"error":{"code","message"}}, printed as it came.
      if (answer.is_object() && answer.contains("error") && answer["error"].is_object()) {
        std::fprintf(stderr, "sgxctl: %s refused (HTTP %d): %s: %s\n", url_.c_str(), res->status,
                     Show(answer["error"], "code").c_str(),
                     Show(answer["error"], "message").c_str());
      } else {
        std::fprintf(stderr, "sgxctl: %s answered HTTP %d: %s\n", url_.c_str(), res->status,
                     res->body.substr(0, 500).c_str());
      }
      return 1;
    }
    std::string token = answer.is_object() ? answer.value("token", "") : "";
    if (token.empty()) return Fail(url_ + route + ": no token in the answer");
    json claims;
    if (!draft_policy_.empty()) {
      auto unverified = UnverifiedPayload(token);
      if (!unverified.ok()) return Fail(unverified.status().ToString());
      claims = *unverified;
      std::printf("token: UNSECURED (alg none: a draft policy's answer, as MAA's)\n");
    } else {
      auto certs = client.Get("/certs");
      if (!certs || certs->status != 200)
        return Fail(
            url_ + "/certs: " +
            (certs ? "HTTP " + std::to_string(certs->status) : httplib::to_string(certs.error())));
      auto verified = attest::VerifyToken(token, certs->body, std::time(nullptr));
      if (!verified.ok())
        return Fail("the token does not verify against " + url_ +
                    "/certs: " + verified.status().ToString());
      claims = *verified;
      std::printf("token: RS256, verified against %s/certs\n", url_.c_str());
    }
    std::printf("issuer:         %s\n", Show(claims, "iss").c_str());
    std::printf("mrenclave:      %s\n", Show(claims, "x-ms-sgx-mrenclave").c_str());
    std::printf("mrsigner:       %s\n", Show(claims, "x-ms-sgx-mrsigner").c_str());
    std::printf("debuggable:     %s\n", Show(claims, "x-ms-sgx-is-debuggable").c_str());
    std::printf("product id:     %s\n", Show(claims, "x-ms-sgx-product-id").c_str());
    std::printf("svn:            %s\n", Show(claims, "x-ms-sgx-svn").c_str());
    std::printf("TCB status:     %s\n", Show(claims, attest::kTcbStatusClaim).c_str());
    bool simulated = claims.value(attest::kSimulatedRootClaim, false);
    std::printf(
        "simulated root: %s\n",
        simulated ? "YES (the service trusts a simulated platform's root, not Intel's)" : "no");
    std::printf("policy hash:    %s\n", Show(claims, "x-ms-policy-hash").c_str());
    if (claims.contains("exp") && claims["exp"].is_number()) {
      std::time_t exp = claims["exp"].get<std::time_t>();
      char when[32];
      std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&exp));
      std::printf("expires:        %s\n", when);
    }
    if (!output_.empty()) {
      Status w = WriteFileAtomic(output_, token + "\n", 0644);
      if (!w.ok()) return Usage("-o: " + w.ToString());
      std::printf("token written to %s\n", output_.c_str());
    }
    return 0;
  }

 private:
  std::string url_, quote_, runtime_data_, runtime_json_, cacert_, draft_policy_, output_;
  std::string api_version_ = "2022-08-01";
  bool open_enclave_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeAttestCommand() { return std::make_unique<AttestCommand>(); }

}  // namespace confcom::sgxctl
