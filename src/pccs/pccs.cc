#include "pccs/pccs.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "common/log_limiter.h"
#include "common/logging.h"
#include "pki/crl.h"

namespace confcom::pccs {

namespace {

constexpr char kPrefix[] = "/sgx/certification/v4";

// Request lines are logged at most ~100/s: any client can make them.
LogLimiter g_request_log(100);

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void Crl(httplib::Response& res, const httplib::Request& req, const Bytes& der) {
  if (req.get_param_value("encoding") == "pem") {
    auto crl = pki::Crl::FromDer(der);
    res.set_content(crl.ok() ? crl->ToPem() : std::string(), "application/x-pem-file");
  } else {
    res.set_content(std::string(AsChars(der)), "application/pkix-crl");
  }
}

// API v4's `tcbEvaluationDataNumber` on /tcb and /qe/identity: absent, or the number of the
// document served (`have`; -1 when it has none). Otherwise writes the answer, as Intel's PCS
// gives it: 400 for a value that is not a number or comes with `update`, 404 for another
// number, and returns false.
bool ServesEvaluationNumber(const httplib::Request& req, httplib::Response& res, long have,
                            const std::string& what) {
  if (!req.has_param("tcbEvaluationDataNumber")) return true;
  const std::string value = req.get_param_value("tcbEvaluationDataNumber");
  auto refuse = [&](int status, const std::string& message) {
    res.status = status;
    res.set_content(message + "\n", "text/plain");
    return false;
  };
  if (value.empty() || value.size() > 9 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return refuse(400, "tcbEvaluationDataNumber must be a decimal number");
  }
  if (req.has_param("update")) {
    return refuse(400, "tcbEvaluationDataNumber cannot be combined with update");
  }
  if (std::stol(value) != have) {
    return refuse(404, "no " + what + " with tcbEvaluationDataNumber " + value +
                           " (this PCCS has number " + std::to_string(have) + ")");
  }
  return true;
}

}  // namespace

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexDigit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return Status::InvalidArgument("bad percent-encoding at offset " + std::to_string(i));
    out.push_back(char(hi << 4 | lo));
    i += 2;
  }
  return out;
}

PccsServer::PccsServer(verify::Collateral collateral, sgx::Array<6> fmspc,
                       std::map<std::string, verify::PckCrlBundle> pck_crls, bool simulated)
    : collateral_(std::move(collateral)),
      fmspc_(fmspc),
      pck_crls_(std::move(pck_crls)),
      server_(std::make_unique<httplib::Server>()) {
  auto& s = *server_;
  // The numbers of the documents served, for `tcbEvaluationDataNumber` (-1: unreadable).
  auto tcb_info = verify::ParseTcbInfo(collateral_.tcb_info_json);
  auto qe_identity = verify::ParseQeIdentity(collateral_.qe_identity_json);
  const long tcb_number = tcb_info.ok() ? tcb_info->tcb_evaluation_data_number : -1;
  const long qe_number = qe_identity.ok() ? qe_identity->tcb_evaluation_data_number : -1;
  const std::string tcb_chain = PercentEncode(collateral_.tcb_signing_chain_pem);
  s.Get(std::string(kPrefix) + "/tcb",
        [this, tcb_chain, tcb_number](const httplib::Request& req, httplib::Response& res) {
          if (!req.has_param("fmspc")) {
            res.status = 400;
            res.set_content("missing fmspc parameter\n", "text/plain");
            return;
          }
          auto fmspc = FromHexExact(req.get_param_value("fmspc"), 6, "fmspc");
          if (!fmspc.ok()) {
            res.status = 400;
            res.set_content(fmspc.status().message() + "\n", "text/plain");
            return;
          }
          if (!std::equal(fmspc->begin(), fmspc->end(), fmspc_.begin())) {
            res.status = 404;
            res.set_content("no TCB Info for FMSPC " + ToHex(*fmspc) + "\n", "text/plain");
            return;
          }
          if (!ServesEvaluationNumber(req, res, tcb_number, "TCB Info for FMSPC " + ToHex(*fmspc)))
            return;
          res.set_header("TCB-Info-Issuer-Chain", tcb_chain);
          res.set_content(collateral_.tcb_info_json, "application/json");
        });
  s.Get(std::string(kPrefix) + "/qe/identity",
        [this, tcb_chain, qe_number](const httplib::Request& req, httplib::Response& res) {
          if (!ServesEvaluationNumber(req, res, qe_number, "QE Identity")) return;
          res.set_header("SGX-Enclave-Identity-Issuer-Chain", tcb_chain);
          res.set_content(collateral_.qe_identity_json, "application/json");
        });
  s.Get(std::string(kPrefix) + "/pckcrl",
        [this](const httplib::Request& req, httplib::Response& res) {
          std::string ca = req.get_param_value("ca");
          if (ca.empty()) {
            res.status = 400;
            res.set_content("missing ca parameter (platform or processor)\n", "text/plain");
            return;
          }
          auto it = pck_crls_.find(ca);
          if (it == pck_crls_.end()) {
            res.status = 404;
            res.set_content("no PCK CRL for ca=" + ca + "\n", "text/plain");
            return;
          }
          res.set_header("SGX-PCK-CRL-Issuer-Chain", PercentEncode(it->second.issuer_chain_pem));
          Crl(res, req, it->second.crl_der);
        });
  s.Get(std::string(kPrefix) + "/rootcacrl",
        [this](const httplib::Request& req, httplib::Response& res) {
          Crl(res, req, collateral_.root_ca_crl_der);
        });
  if (simulated) {
    s.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("Confcom-Simulated", "true");
    });
  }
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // The path arrives percent-decoded: a client could put a newline (%0a) or a terminal
    // escape in it. Log it escaped, so one request is one honest line.
    std::string target = req.path;
    if (!req.params.empty()) target += "?" + httplib::detail::params_to_query_str(req.params);
    uint64_t dropped = 0;
    if (g_request_log.Allow(&dropped)) {
      spdlog::info(
          "{} {} -> {} from {}{}", EscapeForLog(req.method), EscapeForLog(target), res.status,
          EscapeForLog(req.remote_addr),
          dropped > 0 ? " (" + std::to_string(dropped) + " request line(s) suppressed)" : "");
    }
  });
  s.set_payload_max_length(64 << 10);
  // Every response is a header block and a body in two writes: with Nagle's algorithm the body
  // waits for the client's delayed ACK of the header, ~40 ms per request. Send at once.
  s.set_tcp_nodelay(true);
  // Each connection holds a worker until it has sent a request: enough workers that a few
  // half-open connections block nobody, and short read and keep-alive timeouts so that the
  // ones that do are freed soon.
  s.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  s.set_read_timeout(kReadTimeoutSeconds, 0);
  s.set_write_timeout(kReadTimeoutSeconds, 0);
  s.set_keep_alive_timeout(1);
  s.set_keep_alive_max_count(16);
}

PccsServer::~PccsServer() = default;

Status PccsServer::Bind(const std::string& host, int port) {
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ <= 0) return Status::IoError("cannot bind " + host + " to a free port");
  } else {
    if (!server_->bind_to_port(host, port)) {
      return Status::IoError("cannot bind " + host + ":" + std::to_string(port) +
                             " (in use, or not a local address?)");
    }
    port_ = port;
  }
  return Status::Ok();
}

Status PccsServer::Serve() {
  if (!server_->listen_after_bind()) return Status::IoError("PCCS server stopped with an error");
  return Status::Ok();
}

void PccsServer::Stop() { server_->stop(); }

Result<PccsEndpoint> ParsePccsUrl(std::string_view url) {
  auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument("not a usable PCCS URL: '" + std::string(url) + "' (" + why +
                                   "); give the base URL (https://pccs:8081) or QCNL's pccs_url "
                                   "(https://pccs:8081/sgx/certification/v4/)");
  };
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return refuse("no http:// or https://");
  std::string_view name = url.substr(0, scheme);
  if (name != "http" && name != "https") return refuse("scheme " + std::string(name));
  size_t slash = url.find('/', scheme + 3);
  PccsEndpoint e;
  e.origin = std::string(url.substr(0, slash));
  if (e.origin.size() == scheme + 3) return refuse("no host");
  std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) return refuse("a query or fragment");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string_view v4(kPrefix);
  if (path.empty()) {
    e.prefix = kPrefix;
  } else if (path.ends_with(v4)) {
    e.prefix = std::string(path);
  } else if (path.ends_with("/sgx/certification/v3")) {
    return refuse("PCCS API v3; confcom reads API v4: use .../sgx/certification/v4/");
  } else {
    return refuse("path " + std::string(path) + " does not end in /sgx/certification/v4");
  }
  return e;
}

Result<verify::Collateral> FetchCollateral(const std::string& url, const sgx::Array<6>& fmspc,
                                           pki::PckCa ca,
                                           std::optional<uint32_t> tcb_evaluation_data_number) {
  CONFCOM_ASSIGN_OR_RETURN(PccsEndpoint endpoint, ParsePccsUrl(url));
  const std::string& base_url = endpoint.origin;
  httplib::Client client(base_url);
  if (!client.is_valid()) return Status::InvalidArgument("not a usable PCCS URL: " + url);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(30, 0);
  verify::Collateral c;
  auto get = [&](const std::string& path, const char* chain_header, std::string* body,
                 std::string* chain) -> Status {
    auto res = client.Get(endpoint.prefix + path);
    if (!res) {
      return Status::Unavailable("PCCS " + base_url + endpoint.prefix + path + ": " +
                                 httplib::to_string(res.error()));
    }
    if (res->status != 200) {
      // Overload and outages are worth retrying; anything else is this PCCS's answer.
      bool transient = res->status == 429 || res->status >= 500;
      std::string said = res->body.substr(0, 200);
      while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
      return Status(transient ? Status::Code::kUnavailable : Status::Code::kNotFound,
                    "PCCS " + base_url + endpoint.prefix + path + " answered HTTP " +
                        std::to_string(res->status) + (said.empty() ? "" : ": " + said));
    }
    if (res->body.size() > (1u << 20))
      return Status::InvalidArgument("PCCS response larger than 1 MiB");
    *body = res->body;
    if (chain_header != nullptr) {
      if (!res->has_header(chain_header)) {
        return Status::InvalidArgument("PCCS " + path + " response lacks the " + chain_header +
                                       " header");
      }
      CONFCOM_ASSIGN_OR_RETURN(*chain, PercentDecode(res->get_header_value(chain_header)));
    }
    return Status::Ok();
  };
  std::string ignored, pck_crl, root_crl;
  const std::string number =
      tcb_evaluation_data_number
          ? "tcbEvaluationDataNumber=" + std::to_string(*tcb_evaluation_data_number)
          : "";
  CONFCOM_RETURN_IF_ERROR(get("/tcb?fmspc=" + ToHex(fmspc) + (number.empty() ? "" : "&" + number),
                              "TCB-Info-Issuer-Chain", &c.tcb_info_json, &c.tcb_signing_chain_pem));
  CONFCOM_RETURN_IF_ERROR(get("/qe/identity" + (number.empty() ? "" : "?" + number),
                              "SGX-Enclave-Identity-Issuer-Chain", &c.qe_identity_json, &ignored));
  CONFCOM_RETURN_IF_ERROR(get(std::string("/pckcrl?ca=") + pki::PckCaName(ca) + "&encoding=der",
                              "SGX-PCK-CRL-Issuer-Chain", &pck_crl, &c.pck_crl_issuer_chain_pem));
  CONFCOM_RETURN_IF_ERROR(get("/rootcacrl", nullptr, &root_crl, nullptr));
  c.pck_crl_der.assign(pck_crl.begin(), pck_crl.end());
  c.root_ca_crl_der.assign(root_crl.begin(), root_crl.end());
  return c;
}

}  // namespace confcom::pccs
