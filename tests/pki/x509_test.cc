#include "pki/x509.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace confcom::pki
