// The strict API-server double (tests/kube) and ApiClients for it, shared by attest/kube's tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kube/api_client.h"
#include "kube/credentials.h"
#include "kube/kube_api_double.h"
#include "testing/test_util.h"

namespace confcom::attest {

inline constexpr char kApiToken[] = "sgx-attest-sa-token";  // sgx-attest's own credential

class ApiDoubleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    tls_ = confcom::testing::MakeTlsFiles(dir_.path(), "apiserver-ca", &err);
    ASSERT_FALSE(tls_.ca_crt.empty()) << err;
    api_ = std::make_unique<confcom::testing::KubeApiDouble>(tls_, kApiToken, "unused-node", "{}",
                                                             dir_.path());
    kubeconfig_ = confcom::testing::WriteKubeconfig(dir_.File("kubeconfig"), api_->url(),
                                                    tls_.ca_crt, kApiToken);
  }
  // A new client of the double (each user of the API gets its own: ApiClient is
  // thread-compatible).
  std::unique_ptr<kube::ApiClient> Client() {
    auto creds = kube::FromKubeconfig(kubeconfig_);
    EXPECT_TRUE(creds.ok()) << creds.status().ToString();
    kube::ClientOptions o;
    o.request_timeout = std::chrono::milliseconds(3000);
    auto client = kube::ApiClient::Create(*creds, o);
    EXPECT_TRUE(client.ok());
    return client.ok() ? std::move(client).value() : nullptr;
  }
  int Count(const std::string& method, const std::string& path) {
    int n = 0;
    for (const auto& r : api_->requests()) n += r.method == method && r.path == path;
    return n;
  }

  confcom::testing::TempDir dir_;
  confcom::testing::TlsFiles tls_;
  std::unique_ptr<confcom::testing::KubeApiDouble> api_;
  std::string kubeconfig_;
};

}  // namespace confcom::attest
