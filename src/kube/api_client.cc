#include "kube/api_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

namespace confcom::kube {
namespace {

struct Sink {
  std::string* out;
  size_t max;
  bool overflow = false;
};

size_t Write(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->out->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // curl then fails the transfer with CURLE_WRITE_ERROR
  }
  sink->out->append(data, bytes);
  return bytes;
}

size_t Header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* ct = static_cast<std::string*>(user);
  constexpr std::string_view kName = "content-type:";
  if (line.size() > kName.size()) {
    std::string lower = line.substr(0, kName.size());
    // Header bytes are the server's: ::tolower of a negative char is undefined.
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (lower == kName) {
      std::string v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ')) v.erase(v.begin());
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
      *ct = v;
    }
  }
  return size * n;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(user))() ? 1 : 0;
}

bool Retryable(const Result<Response>& r) {
  if (!r.ok()) return r.status().code() == Status::Code::kUnavailable;
  return r->status == 429 || r->status >= 500;
}

}  // namespace

std::string EscapePathSegment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(char(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

ApiClient::ApiClient(Credentials c, ClientOptions o)
    : credentials_(std::move(c)), options_(std::move(o)) {}

ApiClient::~ApiClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::unique_ptr<ApiClient>> ApiClient::Create(Credentials credentials,
                                                     ClientOptions options) {
  static std::once_flag once;
  static CURLcode global = CURLE_OK;
  std::call_once(once, [] { global = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) {
    return Status::Internal(std::string("libcurl init: ") + curl_easy_strerror(global));
  }
  if (credentials.server.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("API server " + credentials.server + " is not https://");
  }
  if (credentials.ca_pem.empty()) {
    return Status::InvalidArgument("no CA to verify the API server " + credentials.server);
  }
  std::unique_ptr<ApiClient> c(new ApiClient(std::move(credentials), std::move(options)));
  c->curl_ = curl_easy_init();
  if (!c->curl_) return Status::Internal("curl_easy_init failed");
  return c;
}

Result<Response> ApiClient::Call(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type,
                                 const std::function<bool()>& abort) {
  CURL* h = static_cast<CURL*>(curl_);
  curl_easy_reset(h);
  const std::string url = credentials_.server + path;
  Response r;
  Sink sink{&r.body, options_.max_response_bytes};
  curl_slist* headers = nullptr;
  auto add = [&](const std::string& line) { headers = curl_slist_append(headers, line.c_str()); };
  add("Accept: application/json");
  if (!content_type.empty()) add("Content-Type: " + content_type);
  std::string token;
  if (credentials_.client_cert_pem.empty()) {
    auto t = BearerToken(credentials_);
    if (!t.ok()) return t.status();
    token = *t;
    add("Authorization: Bearer " + token);
  }
  curl_blob ca{const_cast<char*>(credentials_.ca_pem.data()), credentials_.ca_pem.size(),
               CURL_BLOB_NOCOPY};
  curl_blob cert{const_cast<char*>(credentials_.client_cert_pem.data()),
                 credentials_.client_cert_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob key{const_cast<char*>(credentials_.client_key_pem.data()),
                credentials_.client_key_pem.size(), CURL_BLOB_NOCOPY};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "PATCH" || method == "POST" || method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_SSLVERSION, long(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);  // only the given CA, not the system's
  if (!credentials_.client_cert_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(options_.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.content_type);
  if (abort) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &abort);
  }
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  std::fill(token.begin(), token.end(), '\0');
  if (sink.overflow) {
    return Status::Corruption(method + " " + url + ": response larger than " +
                              std::to_string(options_.max_response_bytes) + " bytes");
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Status::Unavailable("stopped");
  if (rc != CURLE_OK) {
    std::string what = curl_easy_strerror(rc);
    // A certificate the CA does not vouch for will not get better by retrying.
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
        rc == CURLE_SSL_CERTPROBLEM) {
      return Status::PermissionDenied(method + " " + url + ": TLS: " + what);
    }
    return Status::Unavailable(method + " " + url + ": " + what);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

Result<Response> ApiClient::CallWithRetry(const std::string& method, const std::string& path,
                                          const std::string& body, const std::string& content_type,
                                          const RetryOptions& retry) {
  auto wait = retry.initial;
  for (int attempt = 1;; ++attempt) {
    if (retry.stop && retry.stop()) return Status::Unavailable("stopped");
    Result<Response> r = Call(method, path, body, content_type, retry.stop);
    if (retry.stop && retry.stop()) return Status::Unavailable("stopped");
    if (!Retryable(r) || (retry.attempts > 0 && attempt >= retry.attempts)) return r;
    std::string what =
        r.ok() ? method + " " + credentials_.server + path + ": HTTP " + std::to_string(r->status)
               : r.status().message();
    if (retry.on_retry) retry.on_retry(what, wait);
    // Sleep in slices so that stop() is seen promptly.
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (retry.stop && retry.stop()) return Status::Unavailable("stopped");
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(
                                             until - std::chrono::steady_clock::now()) +
                                             std::chrono::milliseconds(1)));
    }
    wait = std::min(wait * 2, retry.max);
  }
}

}  // namespace confcom::kube
