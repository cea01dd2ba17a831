// The one kube flag block (kube/kube_flags.h): the flags, their help texts and the credentials
// they select.
#include "kube/kube_flags.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/test_util.h"

namespace confcom::kube {
namespace {

Result<KubeFlags> Parse(std::vector<std::string> args, std::string* help = nullptr,
                        std::string_view when = "") {
  CLI::App app{"test"};
  KubeFlags flags;
  AddKubeFlags(app, &flags, when);
  if (help) *help = app.help();
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  return flags;
}

TEST(KubeFlags, DefaultsToInClusterAndParsesEachFlag) {
  auto d = Parse({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kubeconfig, "");
  EXPECT_EQ(d->context, "");
  EXPECT_EQ(d->serviceaccount_dir, kServiceAccountDir);
  auto f = Parse({"--kubeconfig", "/k", "--kube-context", "c", "--serviceaccount-dir", "/sa"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->kubeconfig, "/k");
  EXPECT_EQ(f->context, "c");
  EXPECT_EQ(f->serviceaccount_dir, "/sa");
}

TEST(KubeFlags, HelpTextsSayWhenEachFlagMatters) {
  std::string help;
  ASSERT_TRUE(Parse({}, &help).ok());
  EXPECT_NE(help.find("Out of cluster: kubectl's config file (default: the pod's service account)"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("In cluster: folder of the service account's token and ca.crt"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("With --kubeconfig: the context to use (default: current-context)"),
            std::string::npos)
      << help;
  ASSERT_TRUE(Parse({}, &help, "With --register-epc").ok());
  EXPECT_NE(help.find("With --register-epc out of cluster: kubectl's config file"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("With --register-epc in cluster: folder of the service account's"),
            std::string::npos)
      << help;
}

TEST(KubeFlags, CredentialsComeFromTheKubeconfigOrTheServiceAccount) {
  confcom::testing::TempDir dir;
  KubeFlags f;
  f.kubeconfig = dir.File("missing");
  auto missing = CredentialsFromFlags(f);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("kubeconfig " + dir.File("missing")), std::string::npos)
      << missing.status().message();
  // In cluster, the service account folder named by the flag is the one read.
  f.kubeconfig.clear();
  f.serviceaccount_dir = dir.File("sa");
  std::filesystem::create_directories(f.serviceaccount_dir);
  std::ofstream(dir.File("sa/ca.crt")) << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(dir.File("sa/token")) << "t\n";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto in = CredentialsFromFlags(f);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->server, "https://10.0.0.1:443");
  EXPECT_EQ(in->token_file, dir.File("sa/token"));
  auto outside = CredentialsFromFlags(f);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("not in a cluster"), std::string::npos);
}

}  // namespace
}  // namespace confcom::kube
