// The certgen TLS bundle as issued through pki (pki::TlsCaSpec, pki::TlsServerSpec): the
// profile of both certificates as `openssl x509 -text` prints it (ECDSA P-256, subjects,
// validity, basic constraints, key usages, SANs), verification by `openssl verify` for the
// Service names only, and CheckBundle's verdicts. Suites are WebhookCertgenTlsBundle*.
#include "webhook/certgen/tls_bundle.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "pki/x509.h"
#include "testing/test_util.h"

namespace confcom::webhook::certgen {
namespace {

using namespace std::chrono_literals;
using testing::RunCommand;

constexpr std::time_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z

std::string Text(const testing::TempDir& dir, const std::string& name, const std::string& pem) {
  testing::WriteAll(dir.File(name), pem);
  auto r = RunCommand("openssl x509 -noout -text -in " + dir.File(name));
  EXPECT_EQ(r.status, 0) << r.output;
  return r.output;
}

void ExpectHas(const std::string& text, const std::string& want) {
  EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
}

TEST(WebhookCertgenTlsBundle, CaAndServingCertificateHaveTheCertgenProfile) {
  const auto names = ServiceDnsNames("sgx-webhook", "kube-system");
  auto b = GenerateBundle(names, kNow, 3650 * 24h, 365 * 24h);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  testing::TempDir dir;

  const std::string ca = Text(dir, "ca.crt", b->ca_crt);
  ExpectHas(ca, "Subject: CN = sgx-webhook-ca sgx-webhook.kube-system.svc\n");
  ExpectHas(ca, "Issuer: CN = sgx-webhook-ca sgx-webhook.kube-system.svc\n");
  ExpectHas(ca, "ASN1 OID: prime256v1");
  ExpectHas(ca, "ecdsa-with-SHA256");
  ExpectHas(ca, "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0");
  ExpectHas(ca, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign");
  EXPECT_EQ(ca.find("Subject Alternative Name"), std::string::npos) << ca;
  EXPECT_EQ(ca.find("Extended Key Usage"), std::string::npos) << ca;

  const std::string leaf = Text(dir, "tls.crt", b->tls_crt);
  ExpectHas(leaf, "Subject: CN = sgx-webhook.kube-system.svc\n");
  ExpectHas(leaf, "Issuer: CN = sgx-webhook-ca sgx-webhook.kube-system.svc\n");
  ExpectHas(leaf, "ASN1 OID: prime256v1");
  ExpectHas(leaf, "X509v3 Basic Constraints: critical\n                CA:FALSE");
  ExpectHas(leaf, "X509v3 Key Usage: critical\n                Digital Signature\n");
  ExpectHas(leaf, "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n");
  ExpectHas(leaf,
            "DNS:sgx-webhook.kube-system.svc, DNS:sgx-webhook.kube-system.svc.cluster.local\n");
  ExpectHas(leaf, "X509v3 Subject Key Identifier");
  ExpectHas(leaf, "X509v3 Authority Key Identifier");

  // Validity: from an hour before `now` (clock skew), for exactly the requested time.
  auto cert = pki::Certificate::FromPem(b->tls_crt);
  auto ca_cert = pki::Certificate::FromPem(b->ca_crt);
  ASSERT_TRUE(cert.ok() && ca_cert.ok());
  EXPECT_EQ(cert->NotBefore(), kNow - 3600);
  EXPECT_EQ(cert->NotAfter(), kNow + 365 * 24 * 3600);
  EXPECT_EQ(ca_cert->NotBefore(), kNow - 3600);
  EXPECT_EQ(ca_cert->NotAfter(), kNow + 3650 * 24 * 3600);
  EXPECT_EQ(NotAfter(b->tls_crt), kNow + 365 * 24 * 3600);
  EXPECT_TRUE(cert->IsSignedBy(*ca_cert));
  EXPECT_EQ(cert->SerialHex().size(), 32u);  // 16 bytes, positive
  EXPECT_TRUE(cert->CheckExtensions().ok());
  // The key is the certificate's, PKCS#8.
  EXPECT_NE(b->tls_key.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  auto key = crypto::EcKey::FromPrivatePem(b->tls_key);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->PublicRaw(), cert->PublicKey()->PublicRaw());

  EXPECT_TRUE(CheckBundle(*b, names, kNow, 30 * 24h).ok());
}

TEST(WebhookCertgenTlsBundle, OpensslVerifiesForTheServiceNamesOnly) {
  const auto names = ServiceDnsNames("sgx-webhook", "kube-system");
  auto b = GenerateBundle(names, kNow, 3650 * 24h, 365 * 24h);
  ASSERT_TRUE(b.ok());
  testing::TempDir dir;
  testing::WriteAll(dir.File("ca.crt"), b->ca_crt);
  testing::WriteAll(dir.File("tls.crt"), b->tls_crt);
  auto verify = [&](const std::string& host) {
    return RunCommand("openssl verify -attime " + std::to_string(kNow) +
                      " -purpose sslserver -verify_hostname " + host + " -CAfile " +
                      dir.File("ca.crt") + " " + dir.File("tls.crt") + " 2>&1");
  };
  for (const auto& n : names) EXPECT_EQ(verify(n).status, 0) << n << ": " << verify(n).output;
  EXPECT_NE(verify("sgx-webhook.default.svc").status, 0);
  EXPECT_NE(verify("localhost").status, 0);
}

TEST(WebhookCertgenTlsBundle, CheckBundleRefusesWhatCannotBeKept) {
  const auto names = ServiceDnsNames("sgx-webhook", "kube-system");
  auto b = GenerateBundle(names, kNow, 3650 * 24h, 365 * 24h);
  auto other = GenerateBundle(names, kNow, 3650 * 24h, 365 * 24h);
  ASSERT_TRUE(b.ok() && other.ok());
  // Expires within the renewal window.
  EXPECT_EQ(CheckBundle(*b, names, kNow + 360 * 24 * 3600, 30 * 24h).code(),
            Status::Code::kDeadlineExceeded);
  // Another name.
  EXPECT_EQ(CheckBundle(*b, {"sgx-webhook.other.svc"}, kNow, 0s).code(),
            Status::Code::kInvalidArgument);
  // Another CA; another key.
  TlsBundle mixed = *b;
  mixed.ca_crt = other->ca_crt;
  EXPECT_EQ(CheckBundle(mixed, names, kNow, 0s).code(), Status::Code::kInvalidArgument);
  mixed = *b;
  mixed.tls_key = other->tls_key;
  Status wrong_key = CheckBundle(mixed, names, kNow, 0s);
  EXPECT_EQ(wrong_key.code(), Status::Code::kCorruption);
  EXPECT_EQ(wrong_key.message().find("PRIVATE KEY"), std::string::npos);  // never echoes the key
  mixed = *b;
  mixed.tls_crt = "junk";
  EXPECT_EQ(CheckBundle(mixed, names, kNow, 0s).code(), Status::Code::kCorruption);
  // Not yet valid.
  EXPECT_FALSE(CheckBundle(*b, names, kNow - 2 * 3600, 0s).ok());
}

TEST(WebhookCertgenTlsBundle, RefusesNamesAndValiditiesItCannotIssue) {
  EXPECT_FALSE(GenerateBundle({}, kNow, 48h, 24h).ok());
  EXPECT_FALSE(GenerateBundle({"a.b,DNS:evil.example"}, kNow, 48h, 24h).ok());
  EXPECT_FALSE(GenerateBundle({"a..b"}, kNow, 48h, 24h).ok());
  EXPECT_FALSE(GenerateBundle({"a.b"}, kNow, 48h, 0s).ok());
}

}  // namespace
}  // namespace confcom::webhook::certgen
