#include "https/test_certs.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>

#include "pki/x509.h"

namespace confcom::https {

void WriteServingPair(const testing::TempDir& dir, const std::string& tag, bool install) {
  std::time_t now = std::time(nullptr);
  auto ca_key = *crypto::EcKey::Generate();
  auto key = *crypto::EcKey::Generate();
  auto ca = pki::IssueCertificate(pki::TlsCaSpec("test-ca-" + tag, now - 60, now + 86400), ca_key,
                                  nullptr, ca_key);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  pki::CertificateSpec spec = pki::TlsServerSpec({"localhost"}, now - 60, now + 86400);
  spec.common_name = "server-" + tag;
  auto cert = pki::IssueCertificate(spec, key, &*ca, ca_key);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  testing::WriteAll(dir.File("ca-" + tag + ".crt"), ca->ToPem());
  testing::WriteAll(dir.File("srv-" + tag + ".crt"), cert->ToPem());
  testing::WriteAll(dir.File("srv-" + tag + ".key"), *key.PrivatePem());
  if (!install) return;
  testing::WriteAll(dir.File("tls.key.new"), *key.PrivatePem());
  testing::WriteAll(dir.File("tls.crt.new"), cert->ToPem());
  ASSERT_EQ(std::rename(dir.File("tls.key.new").c_str(), dir.File("tls.key").c_str()), 0);
  ASSERT_EQ(std::rename(dir.File("tls.crt.new").c_str(), dir.File("tls.crt").c_str()), 0);
}

}  // namespace confcom::https
