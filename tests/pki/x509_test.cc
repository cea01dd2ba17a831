#include "pki/x509.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "testing/test_util.h"

namespace confcom::pki {
namespace {

struct Chain {
  crypto::EcKey root_key = *crypto::EcKey::Generate();
  crypto::EcKey leaf_key = *crypto::EcKey::Generate();
  Certificate root, leaf;
};

Chain MakeChain() {
  Chain c;
  std::time_t now = std::time(nullptr);
  CertificateSpec root;
  root.common_name = "Intel SGX Root CA";
  root.is_ca = true;
  root.path_len = 1;
  root.key_usage = "critical,keyCertSign,cRLSign";
  root.crl_distribution_point = "https://example.invalid/root.crl";
  root.not_before = now - 60;
  root.not_after = now + 3600;
  c.root = *IssueCertificate(root, c.root_key, nullptr, c.root_key);
  CertificateSpec leaf;
  leaf.common_name = "Intel SGX PCK Certificate";
  leaf.key_usage = "critical,digitalSignature,nonRepudiation";
  leaf.not_before = now - 60;
  leaf.not_after = now + 3600;
  leaf.extensions.push_back({"2.25.1234", EncodeUtf8StringDer("marker")});
  c.leaf = *IssueCertificate(leaf, c.leaf_key, &c.root, c.root_key);
  return c;
}

TEST(X509Test, IssuesIntelStyleCertificates) {
  Chain c = MakeChain();
  EXPECT_EQ(c.root.Subject(),
            "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  EXPECT_EQ(c.leaf.Issuer(), c.root.Subject());
  EXPECT_EQ(c.leaf.SubjectCommonName(), "Intel SGX PCK Certificate");
  EXPECT_TRUE(c.leaf.IsSignedBy(c.root));
  EXPECT_TRUE(c.root.IsSignedBy(c.root));
  EXPECT_FALSE(c.root.IsSignedBy(c.leaf));
  EXPECT_EQ(c.leaf.PublicKey()->PublicRaw(), c.leaf_key.PublicRaw());
  auto marker = c.leaf.ExtensionValue("2.25.1234");
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(*marker, EncodeUtf8StringDer("marker"));
  EXPECT_FALSE(c.root.ExtensionValue("2.25.1234").has_value());
  EXPECT_EQ(c.leaf.SgxExt().status().code(), Status::Code::kNotFound);
}

TEST(X509Test, OpensslVerifiesTheChainAndSeesTheExtensions) {
  Chain c = MakeChain();
  testing::TempDir dir;
  testing::WriteAll(dir.File("root.pem"), c.root.ToPem());
  testing::WriteAll(dir.File("leaf.pem"), c.leaf.ToPem());
  auto verify = testing::RunCommand("openssl verify -CAfile " + dir.File("root.pem") + " " +
                                    dir.File("leaf.pem"));
  EXPECT_EQ(verify.status, 0) << verify.output;
  auto text = testing::RunCommand("openssl x509 -noout -text -in " + dir.File("root.pem"));
  ASSERT_EQ(text.status, 0);
  for (const char* want : {"CA:TRUE, pathlen:1", "Certificate Sign, CRL Sign",
                           "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier",
                           "https://example.invalid/root.crl", "ecdsa-with-SHA256"}) {
    EXPECT_NE(text.output.find(want), std::string::npos) << want << "\n" << text.output;
  }
}

TEST(X509Test, ChainFromPemKeepsOrderAndToleratesTrailingNul) {
  Chain c = MakeChain();
  std::string pem = c.leaf.ToPem() + c.root.ToPem();
  pem.push_back('\0');
  auto chain = Certificate::ChainFromPem(pem);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].SerialHex(), c.leaf.SerialHex());
  EXPECT_FALSE(Certificate::ChainFromPem("junk").ok());
  std::string broken = c.leaf.ToPem();
  broken.resize(broken.size() - 30);
  EXPECT_FALSE(Certificate::ChainFromPem(broken).ok());
}

TEST(X509Test, IntelSubjectIsTheDefaultAndTlsProfilesHaveTheCommonNameOnly) {
  auto key = *crypto::EcKey::Generate();
  std::time_t now = std::time(nullptr);
  CertificateSpec plain;
  plain.common_name = "x";
  plain.not_before = now - 60;
  plain.not_after = now + 3600;
  EXPECT_EQ(IssueCertificate(plain, key, nullptr, key)->Subject(),
            "CN=x, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  auto ca = IssueCertificate(TlsCaSpec("svc-ca", now - 60, now + 3600), key, nullptr, key);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  EXPECT_EQ(ca->Subject(), "CN=svc-ca");
  EXPECT_EQ(ca->Issuer(), "CN=svc-ca");
  auto leaf_key = *crypto::EcKey::Generate();
  auto leaf = IssueCertificate(
      TlsServerSpec({"svc.ns.svc", "svc.ns.svc.cluster.local"}, now - 60, now + 3600), leaf_key,
      &*ca, key);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_EQ(leaf->Subject(), "CN=svc.ns.svc");
  EXPECT_EQ(leaf->Issuer(), "CN=svc-ca");
  EXPECT_TRUE(leaf->IsSignedBy(*ca));
  EXPECT_TRUE(leaf->CheckExtensions().ok());

  testing::TempDir dir;
  testing::WriteAll(dir.File("ca.pem"), ca->ToPem());
  testing::WriteAll(dir.File("leaf.pem"), leaf->ToPem());
  auto verify = [&](const std::string& host) {
    return testing::RunCommand("openssl verify -purpose sslserver -verify_hostname " + host +
                               " -CAfile " + dir.File("ca.pem") + " " + dir.File("leaf.pem") +
                               " 2>&1");
  };
  EXPECT_EQ(verify("svc.ns.svc").status, 0) << verify("svc.ns.svc").output;
  EXPECT_EQ(verify("svc.ns.svc.cluster.local").status, 0);
  EXPECT_NE(verify("other.ns.svc").status, 0);
  auto text = testing::RunCommand("openssl x509 -noout -text -in " + dir.File("leaf.pem"));
  ASSERT_EQ(text.status, 0);
  // Order of the extensions: SKI, AKI, basicConstraints, keyUsage, EKU, SAN.
  size_t at = 0;
  for (const char* want :
       {"X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Key Usage: critical\n                Digital Signature\n",
        "X509v3 Extended Key Usage: \n                TLS Web Server Authentication",
        "DNS:svc.ns.svc, DNS:svc.ns.svc.cluster.local\n"}) {
    size_t found = text.output.find(want, at);
    EXPECT_NE(found, std::string::npos) << want << "\n" << text.output;
    if (found != std::string::npos) at = found;
  }
}

TEST(X509Test, EachDnsNameIsOneSubjectAltNameEntry) {
  // The SAN is built from values, not OpenSSL's "DNS:a,DNS:b" text: a name cannot add entries.
  auto key = *crypto::EcKey::Generate();
  std::time_t now = std::time(nullptr);
  auto cert = IssueCertificate(TlsServerSpec({"a.example,DNS:evil.example"}, now, now + 60), key,
                               nullptr, key);
  ASSERT_TRUE(cert.ok());
  GENERAL_NAMES* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->x509(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(names, nullptr);
  crypto::GeneralNamesPtr owned(names);
  ASSERT_EQ(sk_GENERAL_NAME_num(names), 1);
  GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, 0);
  ASSERT_EQ(gn->type, GEN_DNS);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                        size_t(ASN1_STRING_length(gn->d.dNSName))),
            "a.example,DNS:evil.example");
}

}  // namespace
}  // namespace confcom::pki
