// fuzz_make_seeds SRC_FUZZ_DIR: (re)writes the seed corpora fuzz/corpus/<target>/ and the
// fixed data fuzz/data/collateral/ from a fresh simulated platform (in a temporary state dir,
// removed afterwards). The seed quotes and the collateral come from the same platform, so the
// seeds verify in quote_fuzzer. Run through `ninja -C build-fuzz fuzz_seeds`.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aesm/framing.h"
#include "aesm/protocol.h"
#include "fuzz_util.h"
#include "pki/crl.h"
#include "pki/sgx_extension.h"
#include "pki/x509.h"
#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"
#include "sim/collateral_issuer.h"
#include "sim/platform.h"
#include "verify/collateral.h"
#ifdef CONFCOM_FUZZ_DEVICEPLUGIN
#include "deviceplugin/api.pb.h"
#endif

namespace confcom {
namespace {

namespace fs = std::filesystem;
using aesm::message::Request;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

template <typename T, typename E>
T MustQ(Result<T, E> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

class Corpus {
 public:
  // Replaces the generated seeds; the hand-kept regression-* inputs stay.
  Corpus(const std::string& root, const std::string& target) : dir_(root + "/corpus/" + target) {
    fs::create_directories(dir_);
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("regression-", 0) != 0) fs::remove_all(e.path());
    }
  }
  void Add(const std::string& name, std::string_view bytes) {
    std::ofstream out(dir_ + "/" + name, std::ios::binary);
    out.write(bytes.data(), long(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "make_seeds: cannot write %s/%s\n", dir_.c_str(), name.c_str());
      std::exit(1);
    }
  }
  void Add(const std::string& name, ByteSpan bytes) { Add(name, AsChars(bytes)); }

 private:
  std::string dir_;
};

std::string Str(ByteSpan b) { return std::string(AsChars(b)); }

std::string Serialized(const google::protobuf::MessageLite& m) {
  std::string s;
  if (!m.SerializeToString(&s)) {
    std::fprintf(stderr, "make_seeds: a seed request misses a required field\n");
    std::exit(1);
  }
  return s;
}

sgx::Report AppReport(const sgx::TargetInfo& target, const sgx::Array<16>& cpusvn, bool debug,
                      sgx::ReportKeyLayout layout = sgx::ReportKeyLayout::kSdk219) {
  sgx::ReportBody body;
  body.cpu_svn = cpusvn;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit | (debug ? sgx::kFlagDebug : 0), 0x3};
  body.mr_enclave.fill(0xa5);
  body.mr_signer.fill(0x5a);
  body.isv_prod_id = 7;
  body.isv_svn = 3;
  for (size_t i = 0; i < body.report_data.size(); ++i) body.report_data[i] = uint8_t(i);
  return Must(sgx::MakeSimReport(target, body, layout), "app report");
}

int MakeSeeds(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SRC_FUZZ_DIR\n", argv[0]);
    return 2;
  }
  fuzz::QuietLogs();
  const std::string root = argv[1];
  fuzz::TempDir tmp;
  auto platform = Must(sim::SimPlatform::LoadOrCreate(tmp.File("state")), "sim platform");
  auto collateral = Must(sim::MakeSimCollateral(platform), "collateral");
  std::string collateral_dir = root + "/data/collateral";
  fs::remove_all(collateral_dir);
  if (auto st = verify::WriteCollateralDir(collateral, platform.root_ca().ToPem(), collateral_dir);
      !st.ok()) {
    std::fprintf(stderr, "make_seeds: collateral dir: %s\n", st.ToString().c_str());
    return 1;
  }
  // Committed files are read by everyone.
  for (const auto& e : fs::directory_iterator(collateral_dir)) ::chmod(e.path().c_str(), 0644);

  auto backend = Must(
      quoting::SimBackend::Create(Must(sim::SimPlatform::Load(tmp.File("state")), "sim platform")),
      "sim backend");
  const sgx::AttKeyId key = sgx::EcdsaP256AttKeyId();
  const std::string key_str = Str(key);
  auto init = MustQ(backend->Init(key), "init");
  const uint32_t quote_size = MustQ(backend->QuoteSize(key), "quote size");

  // --- quote_fuzzer: real quotes of each profile, padded, DEBUG.
  {
    Corpus c(root, "quote_fuzzer");
    for (const auto& profile : sim::TcbProfiles()) {
      auto report = AppReport(init.qe_target_info, profile.cpusvn, false).Encode();
      Bytes quote = MustQ(backend->Quote(report, key, nullptr), "quote");
      c.Add("quote_" + profile.name, quote);
      if (profile.name == "default") {
        Bytes padded = quote;
        padded.resize(quote.size() + 256, 0);
        c.Add("quote_default_zero_padded", padded);
      }
    }
    auto debug = AppReport(init.qe_target_info, sgx::kSimCpuSvnDefault, true).Encode();
    c.Add("quote_debug_enclave", MustQ(backend->Quote(debug, key, nullptr), "debug quote"));
  }

  // --- aesm_request_fuzzer: one framed request of every kind.
  {
    Corpus c(root, "aesm_request_fuzzer");
    auto add = [&](const std::string& name, const Request& r) {
      c.Add(name, aesm::EncodeFrame(Serialized(r)));
    };
    Request r;
    r.mutable_getsupportedattkeyidnumreq()->set_timeout(1000);
    add("get_supported_att_key_id_num", r);
    r.Clear();
    r.mutable_getsupportedattkeyidsreq()->set_buf_size(sgx::kAttKeyIdSize);
    add("get_supported_att_key_ids", r);
    r.Clear();
    r.mutable_selectattkeyidreq();
    add("select_att_key_id_default", r);
    r.Clear();
    r.mutable_selectattkeyidreq()->set_att_key_id_list(Str(sgx::EncodeAttKeyIdList({key})));
    add("select_att_key_id_list", r);
    r.Clear();
    r.mutable_initquoteexreq()->set_att_key_id(key_str);
    r.mutable_initquoteexreq()->set_b_pub_key_id(true);
    r.mutable_initquoteexreq()->set_buf_size(32);
    add("init_quote_ex_pub_key_id", r);
    r.Clear();
    r.mutable_initquoteexreq()->set_att_key_id(key_str);
    r.mutable_initquoteexreq()->set_b_pub_key_id(false);
    add("init_quote_ex", r);
    r.Clear();
    r.mutable_getquotesizeexreq()->set_att_key_id(key_str);
    add("get_quote_size_ex", r);
    r.Clear();
    {
      auto* q = r.mutable_getquoteexreq();
      q->set_report(Str(AppReport(init.qe_target_info, sgx::kSimCpuSvnDefault, false).Encode()));
      q->set_att_key_id(key_str);
      q->set_buf_size(quote_size);
      add("get_quote_ex", r);
      sgx::QeReportInfo info;
      info.nonce.fill(0x11);
      info.app_target_info.mr_enclave.fill(0xa5);
      info.app_target_info.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
      q->set_qe_report_info(Str(info.Encode()));
      q->set_report(Str(AppReport(init.qe_target_info, sgx::kSimCpuSvnDowngraded, false,
                                  sgx::ReportKeyLayout::kLegacy)
                            .Encode()));
      add("get_quote_ex_qe_report_info_legacy_layout", r);
    }
    // The EPID / launch / platform-service requests (answered SERVICE_UNAVAILABLE).
    r.Clear();
    r.mutable_initquotereq();
    add("init_quote", r);
    r.Clear();
    {
      auto* m = r.mutable_getquotereq();
      m->set_report(std::string(432, '\0'));
      m->set_quote_type(0);
      m->set_spid(std::string(16, '\0'));
      m->set_buf_size(2000);
    }
    add("get_quote", r);
    r.Clear();
    {
      auto* m = r.mutable_getlictokenreq();
      m->set_mr_enclave(std::string(32, '\0'));
      m->set_mr_signer(std::string(32, '\0'));
      m->set_se_attributes(std::string(16, '\0'));
    }
    add("get_launch_token", r);
    r.Clear();
    {
      auto* m = r.mutable_reporterrreq();
      m->set_platform_info("p");
      m->set_attestation_error_code(1);
      m->set_update_info_size(0);
    }
    add("report_attestation_error", r);
    r.Clear();
    r.mutable_getwhitelistsizereq();
    add("get_white_list_size", r);
    r.Clear();
    r.mutable_getwhitelistreq()->set_white_list_size(10);
    add("get_white_list", r);
    r.Clear();
    r.mutable_sgxgetextendedepidgroupidreq();
    add("get_extended_epid_group_id", r);
    r.Clear();
    r.mutable_sgxswitchextendedepidgroupreq()->set_x_group_id(1);
    add("switch_extended_epid_group", r);
    r.Clear();
    r.mutable_sgxregisterreq()->set_buf("b");
    r.mutable_sgxregisterreq()->set_data_type(1);
    add("register", r);
    r.Clear();
    r.mutable_checkupdatestatusreq()->set_update_info_size(0);
    r.mutable_checkupdatestatusreq()->set_config(0);
    add("check_update_status", r);
  }

  // --- x509_fuzzer: PEM chains, DER certificates and CRLs, SGX extension values.
  {
    Corpus c(root, "x509_fuzzer");
    std::string chain = platform.PckChainPem(0);
    chain.push_back('\0');  // as in a quote's certification data
    c.Add("pck_chain_nul.pem", chain);
    c.Add("tcb_signing_chain.pem", collateral.tcb_signing_chain_pem);
    c.Add("root_ca.der", platform.root_ca().ToDer());
    c.Add("platform_ca.der", platform.pck_ca().ToDer());
    c.Add("tcb_signing.der", platform.tcb_signing().ToDer());
    for (size_t i = 0; i < sim::TcbProfiles().size(); ++i) {
      const auto& pck = platform.pck_certificate(i);
      if (i == 0) c.Add("pck_" + sim::TcbProfiles()[i].name + ".der", pck.ToDer());
      if (auto ext = pck.ExtensionValue(pki::kSgxExtensionOid)) {
        c.Add("sgx_extension_" + sim::TcbProfiles()[i].name + ".der", *ext);
      }
    }
    c.Add("pck_crl.der", collateral.pck_crl_der);
    c.Add("root_ca_crl.der", collateral.root_ca_crl_der);
    c.Add("root_ca_crl.pem", Must(pki::Crl::FromDer(collateral.root_ca_crl_der), "crl").ToPem());
    // A CRL that revokes the PCK certificates, and an extension with the optional fields.
    sim::CollateralOptions revoke;
    revoke.revoke_pck = true;
    c.Add("pck_crl_revoking.der",
          Must(sim::MakeSimCollateral(platform, revoke), "crl").pck_crl_der);
    pki::SgxExtension ext = Must(platform.pck_certificate(0).SgxExt(), "sgx extension");
    ext.sgx_type = 1;
    ext.platform_instance_id = sgx::Array<16>{};
    ext.platform_instance_id->fill(0x42);
    ext.configuration = pki::SgxPlatformConfiguration{true, false, true};
    c.Add("sgx_extension_scalable_with_config.der", Must(pki::EncodeSgxExtension(ext), "ext"));
  }

  // --- collateral_fuzzer: the signed JSON documents and a time stamp.
  {
    Corpus c(root, "collateral_fuzzer");
    c.Add("tcb_info.json", collateral.tcb_info_json);
    c.Add("qe_identity.json", collateral.qe_identity_json);
    c.Add("rfc3339_fraction", std::string("2025-06-30T23:59:59.123Z\n"));
    c.Add("raw_member_escapes",
          std::string(R"({"a\"b":"x\\","tcbInfo" : [1,{"k":"}]"}] ,"signature":"00"})"));
  }

  // --- kube_api_fuzzer: the API server's answers to the EPC registrar. Byte 0 picks the HTTP
  // status (0: 200, 5: 401, 6: 403, 7: 404, 14: 503), the rest is the body.
  {
    Corpus c(root, "kube_api_fuzzer");
    const std::string node =
        R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"kubernetes.io/)"
        R"(hostname":"n1"}},"spec":{"podCIDR":"10.0.0.0/24"},"status":{"capacity":{"cpu":"2",)"
        R"("memory":"24Gi","pods":"110","sgx.intel.com/epc":"8589934592"},"allocatable":)"
        R"({"cpu":"2","memory":"23Gi","pods":"110"}}})";
    auto answer = [&](const std::string& name, uint8_t status, const std::string& body) {
      c.Add(name, std::string(1, char(status)) + body);
    };
    auto status_body = [](int code, const std::string& reason, const std::string& message) {
      return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" + message +
             R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
    };
    answer("node", 0, node);
    answer("node_without_epc", 0,
           R"({"kind":"Node","status":{"capacity":{"cpu":"2","memory":"24Gi"}}})");
    answer("node_epc_binary_suffix", 0,
           R"({"kind":"Node","status":{"capacity":)"
           R"({"sgx.intel.com/epc":"8Gi"}}})");
    answer("node_kind_number", 0, R"({"kind":5,"status":{"capacity":{"cpu":"2"}}})");
    answer("node_capacity_list", 0, R"({"kind":"Node","status":{"capacity":["cpu","2"]}})");
    answer("node_quantity_number", 0,
           R"({"kind":"Node","status":{"capacity":{"sgx.intel.com/epc":18446744073709551615}}})");
    answer("node_status_null", 0, R"({"kind":"Node","status":null})");
    answer("not_json", 0, "<html><body><h1>502 Bad Gateway</h1></body></html>");
    answer("nested", 0,
           R"({"kind":"Node","a":)" + std::string(70, '[') + std::string(70, ']') + "}");
    answer("forbidden", 6,
           status_body(403, "Forbidden",
                       R"(nodes \"n1\" is forbidden: User \"system:serviceaccount:x:y\" cannot get)"
                       R"( resource \"nodes\")"));
    answer("not_found", 7, status_body(404, "NotFound", R"(nodes \"n1\" not found)"));
    answer("unavailable_message_number", 14, R"({"kind":"Status","message":5,"code":503})");
  }

#ifdef CONFCOM_FUZZ_DEVICEPLUGIN
  // --- deviceplugin_fuzzer: Allocate and GetPreferredAllocation requests (the fuzzer parses
  // every input as both messages).
  {
    Corpus c(root, "deviceplugin_fuzzer");
    auto allocate = [&](const std::string& name, std::vector<std::vector<std::string>> containers) {
      v1beta1::AllocateRequest req;
      for (const auto& ids : containers) {
        auto* cr = req.add_container_requests();
        for (const auto& id : ids) cr->add_devices_ids(id);
      }
      c.Add(name, Serialized(req));
    };
    auto prefer = [&](const std::string& name, std::vector<std::string> available,
                      std::vector<std::string> must, int32_t size) {
      v1beta1::PreferredAllocationRequest req;
      auto* cr = req.add_container_requests();
      for (const auto& id : available) cr->add_available_deviceids(id);
      for (const auto& id : must) cr->add_must_include_deviceids(id);
      cr->set_allocation_size(size);
      c.Add(name, Serialized(req));
    };
    allocate("allocate_decimal_node0", {{"0", "1", "2", "1023"}});
    allocate("allocate_decimal_both_nodes", {{"1023", "1024"}, {"2047"}});
    allocate("allocate_compact", {{"0", "a", "Z", "_", "00", "0_", "__", "000", "1a2"}});
    allocate("allocate_garbage", {{"01", "-1", " 1", "2048", "99999999999", ""}});
    std::vector<std::string> avail;
    for (int i = 1016; i < 1040; ++i) avail.push_back(std::to_string(i));
    prefer("prefer_one_node", avail, {}, 8);
    prefer("prefer_must_include", avail, {"1030", "0"}, 12);
    prefer("prefer_compact", {"0", "1", "a", "00", "0_", "_0", "100"}, {"a"}, 3);
    prefer("prefer_negative_size", {"0"}, {}, -1);
  }
#endif
  std::printf("seeds written under %s/corpus and %s/data\n", root.c_str(), root.c_str());
  return 0;
}

}  // namespace
}  // namespace confcom

int main(int argc, char** argv) { return confcom::MakeSeeds(argc, argv); }
