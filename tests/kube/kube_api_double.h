// A strict local double of the Kubernetes API server for one Node, over HTTPS on 127.0.0.1
// (cpp-httplib's SSLServer, an implementation independent of the client's libcurl).
//
// It serves GET /api/v1/nodes/<node> (the stored Node) and PATCH /api/v1/nodes/<node>/status
// and records every request. It refuses what a real API server would: no or a wrong bearer
// token (401), a PATCH whose Content-Type is not application/json-patch+json (415), a body
// that is not a JSON patch (400), any other method or path (404/405). An accepted patch is
// applied to the stored Node by the API server's own JSON-patch library (testing/json_patch.h;
// 422 when it does not apply), so the test sees exactly what the API server would store. FailNext(n, status) makes
// the next n requests fail with that status (an API server that is away or overloaded).
//
// Other objects (Secrets, webhook configurations) live at their API paths (PutObject): GET
// serves one (404 NotFound otherwise); PATCH applies a JSON patch as for the Node, or an
// application/merge-patch+json (RFC 7386);
// PUT (application/json) replaces one only when the body has the stored apiVersion, kind, name
// and namespace and the stored metadata.resourceVersion (409 Conflict otherwise); POST
// (application/json) to a collection opened by AllowCreate creates <collection>/<name> (409
// AlreadyExists if present). A kubernetes.io/tls Secret must hold tls.crt and tls.key, and a
// Secret's type never changes (422), as the API server validates. Every write bumps
// metadata.resourceVersion. Forbid() answers one method on one path with the API server's 403.
//
// TokenReview and SubjectAccessReview (POST /apis/authentication.k8s.io/v1/tokenreviews and
// /apis/authorization.k8s.io/v1/subjectaccessreviews) are answered from two tables: tokens ->
// users (AddReviewToken) and user or group -> allowed verb on one named object (AllowAccess).
// Their bodies are checked as strictly as the API server does: apiVersion, kind, only known
// spec fields of the right types (400 otherwise); the answer is 201 with the spec echoed and
// a status. A token's audiences must meet the review's (default: the API server's own).
// ReplaceBeforeNextWrite stands in for another writer winning a race: just before the next
// PUT to a path or POST creating it, the stored object becomes the given one.
//
// MakeTlsFiles writes a throw-away CA and a server certificate for IP 127.0.0.1 with the
// openssl CLI: <dir>/ca.crt, ca.key, server.crt, server.key.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace confcom::testing {

struct TlsFiles {
  std::string ca_crt, ca_key, server_crt, server_key;
};
// Empty paths on failure (the test then fails on them with the command's output in `error`).
TlsFiles MakeTlsFiles(const std::string& dir, const std::string& cn, std::string* error);

class KubeApiDouble {
 public:
  struct Request {
    std::string method, path, content_type, authorization, body;
  };

  // `work_dir` is not used since the double stopped running kubectl on files there.
  KubeApiDouble(const TlsFiles& tls, std::string token, std::string node_name,
                std::string node_json, std::string work_dir);
  ~KubeApiDouble();

  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  void FailNext(int n, int status);
  std::vector<Request> requests();
  std::string node();
  void SetNode(std::string json);
  // Objects other than the Node, by API path (e.g. /api/v1/namespaces/ns/secrets/name).
  void PutObject(const std::string& path, std::string json);
  std::string Object(const std::string& path);  // "" when there is none
  // POST to `collection` (e.g. /api/v1/namespaces/ns/secrets) creates objects of `kind`.
  void AllowCreate(const std::string& collection, const std::string& kind);
  // `method` on `path` gets 403 Forbidden with `message` (as RBAC denies it).
  void Forbid(const std::string& method, const std::string& path, const std::string& message);
  // The object at `path` is gone (as if deleted by someone else).
  void RemoveObject(const std::string& path);
  // Just before the next PUT to `path` or POST that would create it, the stored object
  // becomes `json` (with a new resourceVersion), as when another writer wins a race.
  void ReplaceBeforeNextWrite(const std::string& path, std::string json);

  // The API server's default token audience (a TokenReview without spec.audiences).
  static constexpr const char* kDefaultAudience = "https://kubernetes.default.svc.cluster.local";
  struct ReviewUser {
    std::string username, uid;
    std::vector<std::string> groups;
    std::map<std::string, std::vector<std::string>> extra;
    std::vector<std::string> audiences = {kDefaultAudience};  // the token's
  };
  // TokenReviews of `token` authenticate `user`; any other token is refused.
  void AddReviewToken(const std::string& token, ReviewUser user);
  // SubjectAccessReviews allow `subject` (a username or a group) `verb` on the core-group
  // `resource` named `name` in `ns`; everything else is denied.
  void AllowAccess(const std::string& subject, const std::string& verb, const std::string& ns,
                   const std::string& resource, const std::string& name);

  // The library's message when the last accepted patch did not apply (empty when it did).
  std::string last_patch_error();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// A kubeconfig for `server` with the CA inline (certificate-authority-data) and a token.
std::string WriteKubeconfig(const std::string& path, const std::string& server,
                            const std::string& ca_crt_path, const std::string& token);

}  // namespace confcom::testing
