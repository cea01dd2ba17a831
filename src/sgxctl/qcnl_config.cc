#include "sgxctl/qcnl_config.h"

#include <nlohmann/json.hpp>
#include <set>

namespace confcom::sgxctl {
namespace {

bool IsHttpUrl(const std::string& url) {
  return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
}

}  // namespace

Result<QcnlConfig> ParseQcnlConfig(std::string_view text) {
  auto j =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) {
    if (text.find("PCCS_URL=") != std::string_view::npos) {
      return Status::InvalidArgument(
          "the QCNL config is in the old KEY=VALUE format; DCAP 1.13 and later read JSON "
          "({\"pccs_url\": \"https://…/sgx/certification/v4/\", …})");
    }
    try {
      [[maybe_unused]] auto ignored = nlohmann::json::parse(text, nullptr, true, true);
    } catch (const nlohmann::json::parse_error& e) {
      return Status::InvalidArgument(std::string("the QCNL config is not valid JSON: ") + e.what());
    }
    return Status::InvalidArgument("the QCNL config is not valid JSON");
  }
  if (!j.is_object()) return Status::InvalidArgument("the QCNL config must be a JSON object");
  QcnlConfig c;
  auto string_key = [&](const char* key, std::string& out) -> Status {
    if (!j.contains(key)) return Status::Ok();
    if (!j[key].is_string())
      return Status::InvalidArgument(std::string("QCNL config: \"") + key + "\" must be a string");
    out = j[key].get<std::string>();
    return Status::Ok();
  };
  CONFCOM_RETURN_IF_ERROR(string_key("pccs_url", c.pccs_url));
  CONFCOM_RETURN_IF_ERROR(string_key("collateral_service", c.collateral_service));
  CONFCOM_RETURN_IF_ERROR(string_key("local_pck_url", c.local_pck_url));
  if (j.contains("use_secure_cert")) {
    if (!j["use_secure_cert"].is_boolean()) {
      return Status::InvalidArgument(
          "QCNL config: \"use_secure_cert\" must be true or false (not a string)");
    }
    c.use_secure_cert = j["use_secure_cert"].get<bool>();
  }
  for (const char* key : {"retry_times", "retry_delay"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_number_integer() || j[key].get<int64_t>() < 0) {
      return Status::InvalidArgument(std::string("QCNL config: \"") + key +
                                     "\" must be a whole number >= 0");
    }
    (std::string(key) == "retry_times" ? c.retry_times : c.retry_delay) =
        int(j[key].get<int64_t>());
  }
  for (const char* key : {"pck_cache_expire_hours", "verify_collateral_cache_expire_hours"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_number() || j[key].get<double>() < 0) {
      return Status::InvalidArgument(std::string("QCNL config: \"") + key +
                                     "\" must be a number >= 0");
    }
    (std::string(key) == "pck_cache_expire_hours" ? c.pck_cache_expire_hours
                                                  : c.verify_collateral_cache_expire_hours) =
        j[key].get<double>();
  }
  if (c.pccs_url.empty()) return Status::InvalidArgument("QCNL config: no \"pccs_url\"");
  if (!IsHttpUrl(c.pccs_url)) {
    return Status::InvalidArgument(
        "QCNL config: \"pccs_url\" must start with https:// or http://, got '" + c.pccs_url + "'");
  }
  for (const std::string* url : {&c.collateral_service, &c.local_pck_url}) {
    if (!url->empty() && !IsHttpUrl(*url)) {
      return Status::InvalidArgument("QCNL config: '" + *url + "' is not an http(s) URL");
    }
  }
  static const std::set<std::string> known = {"pccs_url",
                                              "use_secure_cert",
                                              "collateral_service",
                                              "pccs_api_version",
                                              "retry_times",
                                              "retry_delay",
                                              "local_pck_url",
                                              "pck_cache_expire_hours",
                                              "verify_collateral_cache_expire_hours",
                                              "local_cache_only",
                                              "custom_request_options",
                                              "tcb_update_type"};
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) c.unknown_keys.push_back(key);
  }
  return c;
}

}  // namespace confcom::sgxctl
