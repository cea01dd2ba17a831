#include "kube/kube_api_double.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/json_patch.h"
#include "testing/test_util.h"

namespace confcom::testing {
namespace {

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
                        {"message", message}, {"reason", reason},   {"code", code}}
      .dump();
}

}  // namespace

TlsFiles MakeTlsFiles(const std::string& dir, const std::string& cn, std::string* error) {
  TlsFiles f{dir + "/ca.crt", dir + "/ca.key", dir + "/server.crt", dir + "/server.key"};
  std::ofstream(dir + "/ext.cnf") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n";
  const std::string q = "'" + dir + "'";
  std::string cmd =
      "set -e; cd " + q +
      "; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
      "-out ca.crt -days 2 -subj '/CN=" +
      cn +
      "' 2>&1"
      "; openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
      "-out server.csr -subj /CN=kube-apiserver 2>&1"
      "; openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
      "-out server.crt -days 2 -extfile ext.cnf 2>&1";
  CommandResult r = RunCommand(cmd);
  if (r.status != 0) {
    if (error) *error = r.output;
    return {};
  }
  return f;
}

std::string WriteKubeconfig(const std::string& path, const std::string& server,
                            const std::string& ca_crt_path, const std::string& token) {
  CommandResult b64 = RunCommand("base64 -w0 '" + ca_crt_path + "'");
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                      << "clusters:\n- name: local\n  cluster:\n    server: " << server
                      << "\n    certificate-authority-data: " << b64.output << "\n"
                      << "contexts:\n- name: test\n  context:\n    cluster: local\n"
                      << "    user: plugin\n"
                      << "users:\n- name: plugin\n  user:\n    token: " << token << "\n";
  return path;
}

struct KubeApiDouble::Impl {
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  std::mutex mu;
  std::mutex patch_mu;
  std::string token, node_name, node, work_dir, patch_error;
  std::vector<Request> requests;
  int fail_left = 0, fail_status = 503;
  std::map<std::string, std::string> objects;      // path -> JSON
  std::map<std::string, std::string> collections;  // path -> kind created there
  std::map<std::string, std::string> forbidden;    // "METHOD path" -> message
  long resource_version = 1000;
  std::map<std::string, std::string> replace_before_write;  // path -> JSON
  std::map<std::string, ReviewUser> review_tokens;
  std::vector<std::string> access;  // "subject verb ns resource name"

  // Applies a pending ReplaceBeforeNextWrite of `path`; call with mu held.
  void RaceBeforeWrite(const std::string& path) {
    auto it = replace_before_write.find(path);
    if (it == replace_before_write.end()) return;
    auto j = nlohmann::json::parse(it->second);
    j["metadata"]["resourceVersion"] = NextVersion();
    objects[path] = j.dump();
    replace_before_write.erase(it);
  }

  // A review body: JSON with the expected apiVersion and kind and a spec whose members are
  // all in `allowed`; else nullopt with the 400 set (the API server's strict decoding).
  static std::optional<nlohmann::json> ReviewSpec(const httplib::Request& req,
                                                  httplib::Response& res, const char* api_version,
                                                  const char* kind,
                                                  std::initializer_list<const char*> allowed) {
    if (req.get_header_value("Content-Type") != "application/json") {
      Answer(res, 415, "UnsupportedMediaType", "the body of the request was in an unknown format");
      return std::nullopt;
    }
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_object() || j.value("apiVersion", "") != api_version || j.value("kind", "") != kind) {
      Answer(res, 400, "BadRequest", std::string("not a ") + api_version + " " + kind);
      return std::nullopt;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "apiVersion" && it.key() != "kind" && it.key() != "spec" &&
          it.key() != "metadata") {
        Answer(res, 400, "BadRequest", "unknown field \"" + it.key() + "\"");
        return std::nullopt;
      }
    }
    if (!j.contains("spec") || !j["spec"].is_object()) {
      Answer(res, 400, "BadRequest", "spec: Required value");
      return std::nullopt;
    }
    for (auto it = j["spec"].begin(); it != j["spec"].end(); ++it) {
      bool known = false;
      for (const char* a : allowed) known = known || it.key() == a;
      if (!known) {
        Answer(res, 400, "BadRequest", "unknown field \"spec." + it.key() + "\"");
        return std::nullopt;
      }
    }
    return j;
  }

  static bool StringArray(const nlohmann::json& j) {
    if (!j.is_array()) return false;
    for (const auto& e : j)
      if (!e.is_string()) return false;
    return true;
  }

  void TokenReview(const httplib::Request& req, httplib::Response& res) {
    auto j =
        ReviewSpec(req, res, "authentication.k8s.io/v1", "TokenReview", {"token", "audiences"});
    if (!j) return;
    const auto& spec = (*j)["spec"];
    if (!spec.contains("token") || !spec["token"].is_string() || spec["token"] == "") {
      return Answer(res, 400, "BadRequest", "spec.token: Required value");
    }
    if (spec.contains("audiences") && !StringArray(spec["audiences"])) {
      return Answer(res, 400, "BadRequest", "spec.audiences: not an array of strings");
    }
    std::vector<std::string> wanted = {kDefaultAudience};
    if (spec.contains("audiences") && !spec["audiences"].empty()) {
      wanted = spec["audiences"].get<std::vector<std::string>>();
    }
    nlohmann::json status = {{"user", nlohmann::json::object()}};
    std::lock_guard l(mu);
    auto it = review_tokens.find(spec["token"].get<std::string>());
    if (it == review_tokens.end()) {
      status["error"] = "[invalid bearer token, square/go-jose: error in cryptographic primitive]";
    } else {
      std::vector<std::string> met;
      for (const auto& a : it->second.audiences)
        if (std::find(wanted.begin(), wanted.end(), a) != wanted.end()) met.push_back(a);
      if (met.empty()) {
        status["error"] = "[invalid bearer token, token audiences " +
                          nlohmann::json(it->second.audiences).dump() +
                          " is invalid for the target audiences " + nlohmann::json(wanted).dump() +
                          "]";
      } else {
        const ReviewUser& u = it->second;
        status = {{"authenticated", true},
                  {"user", {{"username", u.username}, {"uid", u.uid}, {"groups", u.groups}}},
                  {"audiences", met}};
        if (!u.extra.empty()) status["user"]["extra"] = u.extra;
      }
    }
    res.status = 201;
    res.set_content(nlohmann::json{{"apiVersion", "authentication.k8s.io/v1"},
                                   {"kind", "TokenReview"},
                                   {"metadata", {{"creationTimestamp", nullptr}}},
                                   {"spec", spec},
                                   {"status", status}}
                        .dump(),
                    "application/json");
  }

  void AccessReview(const httplib::Request& req, httplib::Response& res) {
    auto j = ReviewSpec(req, res, "authorization.k8s.io/v1", "SubjectAccessReview",
                        {"resourceAttributes", "user", "groups", "uid", "extra"});
    if (!j) return;
    const auto& spec = (*j)["spec"];
    if (!spec.contains("resourceAttributes") || !spec["resourceAttributes"].is_object()) {
      return Answer(res, 400, "BadRequest", "spec.resourceAttributes: Required value");
    }
    const auto& ra = spec["resourceAttributes"];
    for (auto it = ra.begin(); it != ra.end(); ++it) {
      static const char* kKnown[] = {"namespace", "verb",        "group", "version",
                                     "resource",  "subresource", "name"};
      if (std::find_if(std::begin(kKnown), std::end(kKnown),
                       [&](const char* k) { return it.key() == k; }) == std::end(kKnown) ||
          !it.value().is_string()) {
        return Answer(res, 400, "BadRequest", "spec.resourceAttributes." + it.key() + ": invalid");
      }
    }
    if (spec.contains("user") && !spec["user"].is_string())
      return Answer(res, 400, "BadRequest", "spec.user: not a string");
    if (spec.contains("uid") && !spec["uid"].is_string())
      return Answer(res, 400, "BadRequest", "spec.uid: not a string");
    if (spec.contains("groups") && !StringArray(spec["groups"]))
      return Answer(res, 400, "BadRequest", "spec.groups: not an array of strings");
    if (spec.contains("extra")) {
      if (!spec["extra"].is_object()) return Answer(res, 400, "BadRequest", "spec.extra: invalid");
      for (const auto& v : spec["extra"])
        if (!StringArray(v)) return Answer(res, 400, "BadRequest", "spec.extra: invalid");
    }
    std::vector<std::string> subjects;
    if (spec.contains("user") && spec["user"] != "") subjects.push_back(spec["user"]);
    if (spec.contains("groups"))
      for (const auto& g : spec["groups"]) subjects.push_back(g);
    if (subjects.empty()) {
      return Answer(res, 422, "Invalid", "spec.user: at least one of user or group must be set");
    }
    auto attr = [&](const char* k) { return ra.value(k, std::string()); };
    bool allowed = false;
    {
      std::lock_guard l(mu);
      for (const auto& s : subjects) {
        const std::string want = s + " " + attr("verb") + " " + attr("namespace") + " " +
                                 attr("resource") + " " + attr("name");
        allowed = allowed || (attr("group").empty() && attr("subresource").empty() &&
                              std::find(access.begin(), access.end(), want) != access.end());
      }
    }
    nlohmann::json status = {{"allowed", allowed}};
    if (!allowed) status["reason"] = "no RBAC policy matched";
    res.status = 201;
    res.set_content(nlohmann::json{{"apiVersion", "authorization.k8s.io/v1"},
                                   {"kind", "SubjectAccessReview"},
                                   {"metadata", {{"creationTimestamp", nullptr}}},
                                   {"spec", spec},
                                   {"status", status}}
                        .dump(),
                    "application/json");
  }

  // Records the request; returns false (with the answer set) when it must be refused.
  bool Admit(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard l(mu);
    requests.push_back({req.method, req.path, req.get_header_value("Content-Type"),
                        req.get_header_value("Authorization"), req.body});
    if (fail_left > 0) {
      --fail_left;
      res.status = fail_status;
      res.set_content(StatusBody(fail_status, "ServiceUnavailable", "the double is away"),
                      "application/json");
      return false;
    }
    if (req.get_header_value("Authorization") != "Bearer " + token) {
      res.status = 401;
      res.set_content(StatusBody(401, "Unauthorized", "Unauthorized"), "application/json");
      return false;
    }
    auto f = forbidden.find(req.method + " " + req.path);
    if (f != forbidden.end()) {
      res.status = 403;
      res.set_content(StatusBody(403, "Forbidden", f->second), "application/json");
      return false;
    }
    return true;
  }

  static void Answer(httplib::Response& res, int code, const std::string& reason,
                     const std::string& message) {
    res.status = code;
    res.set_content(StatusBody(code, reason, message), "application/json");
  }

  std::string NextVersion() { return std::to_string(++resource_version); }

  // `current` with the request's JSON patch applied by the API server's own library
  // (testing/json_patch.h), or nullopt with the answer set.
  std::optional<std::string> ApplyPatch(const std::string& current, const httplib::Request& req,
                                        httplib::Response& res) {
    if (req.get_header_value("Content-Type") != "application/json-patch+json") {
      Answer(res, 415, "UnsupportedMediaType", "the body of the request was in an unknown format");
      return std::nullopt;
    }
    auto patch = nlohmann::json::parse(req.body, nullptr, false);
    if (patch.is_discarded() || !patch.is_array()) {
      Answer(res, 400, "BadRequest", "not a JSON patch");
      return std::nullopt;
    }
    Result<std::string> patched = confcom::testing::ApplyJsonPatch(current, req.body);
    std::lock_guard l(mu);
    if (!patched.ok()) {
      patch_error = patched.status().message();
      Answer(res, 422, "Invalid", "patch does not apply: " + patch_error);
      return std::nullopt;
    }
    patch_error.clear();
    return *std::move(patched);
  }

  void Patch(const httplib::Request& req, httplib::Response& res) {
    // One PATCH at a time: they share the work files (a client retry may overlap a slow one).
    std::lock_guard one_patch(patch_mu);
    std::string current;
    {
      std::lock_guard l(mu);
      current = node;
    }
    auto patched = ApplyPatch(current, req, res);
    if (!patched) return;
    std::lock_guard l(mu);
    node = *patched;
    res.status = 200;
    res.set_content(node, "application/json");
  }

  void PatchObject(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard one_patch(patch_mu);
    std::string current;
    {
      std::lock_guard l(mu);
      current = objects[req.path];
    }
    auto patched = ApplyPatch(current, req, res);
    if (!patched) return;
    auto j = nlohmann::json::parse(*patched, nullptr, false);
    std::lock_guard l(mu);
    j["metadata"]["resourceVersion"] = NextVersion();
    objects[req.path] = j.dump();
    res.status = 200;
    res.set_content(objects[req.path], "application/json");
  }

  // PATCH of a stored object with application/merge-patch+json (RFC 7386, as the API server
  // applies it; e.g. a Deployment's pod-template annotation).
  void MergePatchObject(const httplib::Request& req, httplib::Response& res) {
    auto patch = nlohmann::json::parse(req.body, nullptr, false);
    if (patch.is_discarded() || !patch.is_object())
      return Answer(res, 400, "BadRequest", "not JSON");
    std::lock_guard l(mu);
    auto j = nlohmann::json::parse(objects[req.path]);
    j.merge_patch(patch);
    j["metadata"]["resourceVersion"] = NextVersion();
    objects[req.path] = j.dump();
    res.status = 200;
    res.set_content(objects[req.path], "application/json");
  }

  // The checks the API server makes of a Secret it stores (nullopt: fine).
  static std::optional<std::string> InvalidSecret(const nlohmann::json& s) {
    if (s.value("type", "Opaque") != "kubernetes.io/tls") return std::nullopt;
    const auto& d = s.contains("data") ? s["data"] : nlohmann::json::object();
    for (const char* key : {"tls.crt", "tls.key"}) {
      if (!d.is_object() || !d.contains(key))
        return std::string("data[") + key + "]: Required value";
    }
    return std::nullopt;
  }

  // A body for `path`'s object: JSON of the right shape, else nullopt with the answer set.
  static std::optional<nlohmann::json> Body(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Content-Type") != "application/json") {
      Answer(res, 415, "UnsupportedMediaType", "the body of the request was in an unknown format");
      return std::nullopt;
    }
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_object() || !j.contains("metadata") || !j["metadata"].is_object() ||
        !j["metadata"].contains("name") || !j.contains("kind") || !j.contains("apiVersion")) {
      Answer(res, 400, "BadRequest", "not an object with apiVersion, kind and metadata.name");
      return std::nullopt;
    }
    if (auto bad = InvalidSecret(j)) {
      Answer(res, 422, "Invalid", *bad);
      return std::nullopt;
    }
    return j;
  }

  void Put(const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    std::lock_guard l(mu);
    RaceBeforeWrite(req.path);
    auto it = objects.find(req.path);
    if (it == objects.end()) return Answer(res, 404, "NotFound", "not found: " + req.path);
    auto stored = nlohmann::json::parse(it->second);
    for (const char* f : {"apiVersion", "kind"}) {
      if ((*body)[f] != stored[f])
        return Answer(res, 400, "BadRequest", std::string(f) + " differs");
    }
    for (const char* f : {"name", "namespace"}) {
      if ((*body)["metadata"].value(f, "") != stored["metadata"].value(f, "")) {
        return Answer(res, 400, "BadRequest", std::string("metadata.") + f + " differs");
      }
    }
    if ((*body)["metadata"].value("resourceVersion", "") !=
        stored["metadata"].value("resourceVersion", "")) {
      return Answer(res, 409, "Conflict",
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again");
    }
    if (stored["kind"] == "Secret" &&
        body->value("type", "Opaque") != stored.value("type", "Opaque")) {
      return Answer(res, 422, "Invalid", "type: Invalid value: field is immutable");
    }
    (*body)["metadata"]["resourceVersion"] = NextVersion();
    it->second = body->dump();
    res.status = 200;
    res.set_content(it->second, "application/json");
  }

  void Post(const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/apis/authentication.k8s.io/v1/tokenreviews") return TokenReview(req, res);
    if (req.path == "/apis/authorization.k8s.io/v1/subjectaccessreviews")
      return AccessReview(req, res);
    {
      std::lock_guard l(mu);
      if (!collections.count(req.path)) {
        return Answer(res, 405, "MethodNotAllowed", "cannot create here");
      }
    }
    auto body = Body(req, res);
    if (!body) return;
    std::lock_guard l(mu);
    auto c = collections.find(req.path);
    if ((*body)["kind"] != c->second) {
      return Answer(res, 400, "BadRequest", "kind is not " + c->second);
    }
    const std::string name = (*body)["metadata"]["name"].get<std::string>();
    const std::string path = req.path + "/" + name;
    RaceBeforeWrite(path);
    if (objects.count(path)) {
      return Answer(res, 409, "AlreadyExists", "\"" + name + "\" already exists");
    }
    (*body)["metadata"]["resourceVersion"] = NextVersion();
    objects[path] = body->dump();
    res.status = 201;
    res.set_content(objects[path], "application/json");
  }
};

KubeApiDouble::KubeApiDouble(const TlsFiles& tls, std::string token, std::string node_name,
                             std::string node_json, std::string work_dir)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.token = std::move(token);
  m.node_name = std::move(node_name);
  m.node = std::move(node_json);
  m.work_dir = std::move(work_dir);
  m.server = std::make_unique<httplib::SSLServer>(tls.server_crt.c_str(), tls.server_key.c_str());
  const std::string node_path = "/api/v1/nodes/" + m.node_name;
  m.server->Get(".*", [&m, node_path](const httplib::Request& req, httplib::Response& res) {
    if (!m.Admit(req, res)) return;
    if (req.path != node_path) {
      std::lock_guard l(m.mu);
      auto it = m.objects.find(req.path);
      if (it != m.objects.end()) {
        res.set_content(it->second, "application/json");
        return;
      }
      res.status = 404;
      res.set_content(StatusBody(404, "NotFound", "not found: " + req.path), "application/json");
      return;
    }
    std::lock_guard l(m.mu);
    res.set_content(m.node, "application/json");
  });
  m.server->Patch(".*", [&m, node_path](const httplib::Request& req, httplib::Response& res) {
    if (!m.Admit(req, res)) return;
    bool is_object;
    {
      std::lock_guard l(m.mu);
      is_object = m.objects.count(req.path) > 0;
    }
    if (is_object && req.get_header_value("Content-Type") == "application/merge-patch+json")
      return m.MergePatchObject(req, res);
    if (is_object) return m.PatchObject(req, res);
    if (req.path != node_path + "/status") {
      res.status = 404;
      res.set_content(StatusBody(404, "NotFound", "not found: " + req.path), "application/json");
      return;
    }
    m.Patch(req, res);
  });
  auto refuse = [&m](const httplib::Request& req, httplib::Response& res) {
    if (!m.Admit(req, res)) return;
    res.status = 405;
  };
  m.server->Put(".*", [&m](const httplib::Request& req, httplib::Response& res) {
    if (m.Admit(req, res)) m.Put(req, res);
  });
  m.server->Post(".*", [&m](const httplib::Request& req, httplib::Response& res) {
    if (m.Admit(req, res)) m.Post(req, res);
  });
  m.server->Delete(".*", refuse);
  port_ = m.server->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    ADD_FAILURE() << "the API server double could not bind a loopback port";
    return;
  }
  m.thread = std::thread([&m] { m.server->listen_after_bind(); });
  // httplib's stop() does nothing before the server runs: wait for it, so the destructor can
  // never hang on a server that had not started yet.
  for (int i = 0; i < 2000 && !m.server->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!m.server->is_running()) ADD_FAILURE() << "the API server double did not start";
}

KubeApiDouble::~KubeApiDouble() {
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void KubeApiDouble::FailNext(int n, int status) {
  std::lock_guard l(impl_->mu);
  impl_->fail_left = n;
  impl_->fail_status = status;
}

std::vector<KubeApiDouble::Request> KubeApiDouble::requests() {
  std::lock_guard l(impl_->mu);
  return impl_->requests;
}

std::string KubeApiDouble::node() {
  std::lock_guard l(impl_->mu);
  return impl_->node;
}

void KubeApiDouble::SetNode(std::string json) {
  std::lock_guard l(impl_->mu);
  impl_->node = std::move(json);
}

void KubeApiDouble::PutObject(const std::string& path, std::string json) {
  std::lock_guard l(impl_->mu);
  auto j = nlohmann::json::parse(json);
  j["metadata"]["resourceVersion"] = impl_->NextVersion();
  impl_->objects[path] = j.dump();
}

std::string KubeApiDouble::Object(const std::string& path) {
  std::lock_guard l(impl_->mu);
  auto it = impl_->objects.find(path);
  return it == impl_->objects.end() ? std::string() : it->second;
}

void KubeApiDouble::AllowCreate(const std::string& collection, const std::string& kind) {
  std::lock_guard l(impl_->mu);
  impl_->collections[collection] = kind;
}

void KubeApiDouble::Forbid(const std::string& method, const std::string& path,
                           const std::string& message) {
  std::lock_guard l(impl_->mu);
  impl_->forbidden[method + " " + path] = message;
}

void KubeApiDouble::RemoveObject(const std::string& path) {
  std::lock_guard l(impl_->mu);
  impl_->objects.erase(path);
}

void KubeApiDouble::ReplaceBeforeNextWrite(const std::string& path, std::string json) {
  std::lock_guard l(impl_->mu);
  impl_->replace_before_write[path] = std::move(json);
}

void KubeApiDouble::AddReviewToken(const std::string& token, ReviewUser user) {
  std::lock_guard l(impl_->mu);
  impl_->review_tokens[token] = std::move(user);
}

void KubeApiDouble::AllowAccess(const std::string& subject, const std::string& verb,
                                const std::string& ns, const std::string& resource,
                                const std::string& name) {
  std::lock_guard l(impl_->mu);
  impl_->access.push_back(subject + " " + verb + " " + ns + " " + resource + " " + name);
}

std::string KubeApiDouble::last_patch_error() {
  std::lock_guard l(impl_->mu);
  return impl_->patch_error;
}

}  // namespace confcom::testing
