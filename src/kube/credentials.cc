#include "kube/credentials.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "common/file_util.h"
#include "kube/base64.h"

namespace confcom::kube {
namespace {

constexpr size_t kMaxFile = 1 << 20;

// A kubeconfig's *-data field: base64 of something non-empty.
Result<std::string> DecodeData(const std::string& in, const std::string& what) {
  auto out = Base64Decode(in);
  if (!out.ok() || out->empty()) return Status::InvalidArgument(what + " is not base64");
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
  return s.substr(i);
}

// A file named in a kubeconfig: relative paths are relative to the kubeconfig's folder.
Result<std::string> ReadNamed(const std::string& kubeconfig, const std::string& file,
                              const std::string& what) {
  std::filesystem::path p(file);
  if (p.is_relative()) p = std::filesystem::path(kubeconfig).parent_path() / p;
  auto data = ReadFile(p.string(), kMaxFile);
  if (!data.ok()) {
    return Status::InvalidArgument(what + " " + p.string() + ": " + data.status().message());
  }
  return *data;
}

// The entry named `name` in a kubeconfig list such as clusters: [{name, cluster: {...}}];
// an undefined node (false) when there is none (YAML::Node() would be a defined null).
YAML::Node Named(const YAML::Node& list, const std::string& name, const char* field) {
  const YAML::Node none(YAML::NodeType::Undefined);
  if (!list || !list.IsSequence()) return none;
  for (const auto& e : list) {
    // Entries of other shapes are skipped (yaml-cpp's as<> throws on a wrong type).
    if (e.IsMap() && e["name"] && e["name"].IsScalar() && e["name"].Scalar() == name) {
      return e[field];
    }
  }
  return none;
}

std::string Str(const YAML::Node& n, const char* key) {
  return n && n.IsMap() && n[key] && n[key].IsScalar() ? n[key].Scalar() : std::string();
}

// Whether a cluster sets insecure-skip-tls-verify: anything but absent, null or a YAML false
// counts as set (as<bool> would throw on "maybe" or a map).
bool InsecureSkipSet(const YAML::Node& cluster) {
  if (!cluster.IsMap()) return false;
  YAML::Node skip = cluster["insecure-skip-tls-verify"];
  if (!skip || skip.IsNull()) return false;
  if (!skip.IsScalar()) return true;
  for (const char* no : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}) {
    if (skip.Scalar() == no) return false;
  }
  return true;
}

Result<Credentials> ParseKubeconfig(const std::string& path, const std::string& text,
                                    const std::string& want_context) {
  YAML::Node root = YAML::Load(text);
  if (!root || !root.IsMap())
    return Status::InvalidArgument(path + ": not a kubeconfig (not a YAML map)");
  std::string context = want_context.empty() ? Str(root, "current-context") : want_context;
  if (context.empty()) {
    return Status::InvalidArgument(path + ": no current-context (name one with --kube-context)");
  }
  YAML::Node ctx = Named(root["contexts"], context, "context");
  if (!ctx) return Status::InvalidArgument(path + ": no context named '" + context + "'");
  std::string cluster_name = Str(ctx, "cluster"), user_name = Str(ctx, "user");
  YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
  if (!cluster) {
    return Status::InvalidArgument(path + ": context '" + context + "' names cluster '" +
                                   cluster_name + "', which is not in clusters");
  }
  Credentials c;
  c.source = "kubeconfig " + path + " context " + context;
  c.server = Str(cluster, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(path + ": cluster '" + cluster_name + "' server '" + c.server +
                                   "' is not https:// (TLS is required)");
  }
  if (InsecureSkipSet(cluster)) {
    return Status::InvalidArgument(path + ": cluster '" + cluster_name +
                                   "' sets insecure-skip-tls-verify; the server's certificate "
                                   "is always verified here");
  }
  if (std::string data = Str(cluster, "certificate-authority-data"); !data.empty()) {
    auto pem = DecodeData(data, path + ": certificate-authority-data");
    if (!pem.ok()) return pem.status();
    c.ca_pem = *pem;
  } else if (std::string file = Str(cluster, "certificate-authority"); !file.empty()) {
    auto pem = ReadNamed(path, file, path + ": certificate-authority");
    if (!pem.ok()) return pem.status();
    c.ca_pem = *pem;
  } else {
    return Status::InvalidArgument(path + ": cluster '" + cluster_name +
                                   "' has no certificate-authority(-data): cannot verify the "
                                   "server");
  }
  YAML::Node user = Named(root["users"], user_name, "user");
  if (!user) {
    return Status::InvalidArgument(path + ": context '" + context + "' names user '" + user_name +
                                   "', which is not in users");
  }
  if (user["exec"] || user["auth-provider"]) {
    return Status::Unsupported(path + ": user '" + user_name +
                               "' uses an exec or auth-provider plugin; use a token or a "
                               "client certificate");
  }
  c.token = Str(user, "token");
  if (std::string f = Str(user, "tokenFile"); !f.empty() && c.token.empty()) {
    std::filesystem::path p(f);
    if (p.is_relative()) p = std::filesystem::path(path).parent_path() / p;
    c.token_file = p.string();
  }
  for (auto [data_key, file_key, out] :
       {std::tuple{"client-certificate-data", "client-certificate", &c.client_cert_pem},
        std::tuple{"client-key-data", "client-key", &c.client_key_pem}}) {
    if (std::string data = Str(user, data_key); !data.empty()) {
      auto pem = DecodeData(data, path + ": " + data_key);
      if (!pem.ok()) return pem.status();
      *out = *pem;
    } else if (std::string file = Str(user, file_key); !file.empty()) {
      auto pem = ReadNamed(path, file, path + ": " + file_key);
      if (!pem.ok()) return pem.status();
      *out = *pem;
    }
  }
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Status::InvalidArgument(path + ": user '" + user_name +
                                   "' has a client certificate without its key, or a key "
                                   "without its certificate");
  }
  if (c.token.empty() && c.token_file.empty() && c.client_cert_pem.empty()) {
    return Status::InvalidArgument(path + ": user '" + user_name +
                                   "' has no token, tokenFile or client certificate");
  }
  return c;
}

}  // namespace

std::string Credentials::Describe() const {
  std::string how = !client_cert_pem.empty() ? "client certificate"
                    : !token_file.empty()    ? "bearer token from " + token_file
                                             : "bearer token";
  return server + " (" + source + ", " + how + ")";
}

Result<Credentials> InCluster(const std::string& host, const std::string& port,
                              const std::string& dir) {
  if (host.empty() || port.empty()) {
    return Status::InvalidArgument(
        "not in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set (out of "
        "cluster, give --kubeconfig FILE)");
  }
  Credentials c;
  c.source = "in-cluster";
  c.server =
      "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  auto ca = ReadFile(dir + "/ca.crt", kMaxFile);
  if (!ca.ok()) {
    return Status::InvalidArgument("in-cluster CA " + dir + "/ca.crt: " + ca.status().message());
  }
  c.ca_pem = *ca;
  c.token_file = dir + "/token";
  if (!PathExists(c.token_file)) {
    return Status::InvalidArgument("in-cluster token " + c.token_file +
                                   " does not exist (automountServiceAccountToken: false?)");
  }
  return c;
}

Result<Credentials> InClusterFromEnv(const std::string& dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  return InCluster(host ? host : "", port ? port : "", dir);
}

Result<Credentials> FromKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadFile(path, kMaxFile);
  if (!text.ok())
    return Status::InvalidArgument("kubeconfig " + path + ": " + text.status().message());
  // yaml-cpp reports errors by exception; none leaves this module.
  try {
    return ParseKubeconfig(path, *text, context);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + path + ": " + e.what());
  }
}

Result<std::string> BearerToken(const Credentials& c) {
  std::string token = c.token;
  std::string where = c.source + " token";
  if (!c.token_file.empty()) {
    auto t = ReadFile(c.token_file, 64 << 10);
    if (!t.ok()) return Status::Unavailable("token " + c.token_file + ": " + t.status().message());
    token = Trim(*t);
    if (token.empty()) return Status::Unavailable("token " + c.token_file + " is empty");
    where = "token " + c.token_file;
  }
  // The token goes into a header line as is: a CR or LF would end it and start another
  // (RFC 6750 tokens are visible ASCII). The message never shows the token.
  for (unsigned char ch : token) {
    if (ch < 0x21 || ch > 0x7e) {
      // A file may be rewritten by the kubelet (retrying can help); an inline token cannot.
      std::string why = where +
                        " has a character a bearer token cannot have (control, space "
                        "or non-ASCII)";
      return c.token_file.empty() ? Status::InvalidArgument(why) : Status::Unavailable(why);
    }
  }
  return token;
}

}  // namespace confcom::kube
