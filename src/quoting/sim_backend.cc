#include "quoting/sim_backend.h"

#include <algorithm>
#include <cstring>

#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"

namespace confcom::quoting {

namespace {

QuoteError Err(aesm::AesmError code, std::string message) { return {code, std::move(message)}; }

}  // namespace

Bytes SimBackend::QeAuthData() {
  Bytes auth(32);
  for (size_t i = 0; i < auth.size(); ++i) auth[i] = uint8_t(i);
  return auth;
}

Result<std::unique_ptr<SimBackend>> SimBackend::Create(sim::SimPlatform platform) {
  std::unique_ptr<SimBackend> b(new SimBackend(std::move(platform)));
  const sim::SimPlatform& p = b->platform_;
  b->target_info_ = sim::SimQeTargetInfo();
  Bytes auth = QeAuthData();
  crypto::RawPublicKey attest_pub = p.attestation_key().PublicRaw();
  crypto::Sha256Digest binding = crypto::Sha256({attest_pub, auth});
  b->init_info_.qe_target_info = b->target_info_;
  b->init_info_.pub_key_id = binding;

  for (size_t i = 0; i < sim::TcbProfiles().size(); ++i) {
    const sim::TcbProfile& profile = sim::TcbProfiles()[i];
    sgx::QuoteV3 q;
    q.header.qe_svn = sim::kQeIsvSvn;
    q.header.pce_svn = profile.pcesvn;
    std::memcpy(q.header.user_data.data(), p.info().qe_id.data(), 16);
    q.attest_key = attest_pub;
    q.qe_report = sim::SimQeReportBody(profile.cpusvn);
    std::copy(binding.begin(), binding.end(), q.qe_report.report_data.begin());
    auto qe_sig = p.pck_key().Sign(q.qe_report.Encode());
    if (!qe_sig.ok()) return qe_sig.status().WithContext("signing the QE report");
    q.qe_report_signature = *qe_sig;
    q.qe_auth_data = auth;
    q.cert_data_type = sgx::kCertDataPckChain;
    std::string chain = p.PckChainPem(i);
    q.cert_data.assign(chain.begin(), chain.end());
    q.cert_data.push_back(0);  // Intel's certification data ends with a NUL byte
    b->templates_.push_back(q.Encode());
    if (b->templates_.back().size() != b->templates_.front().size()) {
      return Status::Corruption(
          "the simulated platform's PCK certificates differ in length, so "
          "quotes would not all have the announced size; recreate the "
          "state dir");
    }
  }
  b->quote_size_ = uint32_t(b->templates_.front().size());
  return b;
}

std::vector<sgx::AttKeyId> SimBackend::SupportedKeyIds() const {
  return {sgx::EcdsaP256AttKeyId()};
}

QuoteResult<InitInfo> SimBackend::Init(const sgx::AttKeyId&) { return init_info_; }

QuoteResult<uint32_t> SimBackend::QuoteSize(const sgx::AttKeyId&) { return quote_size_; }

QuoteResult<Bytes> SimBackend::Quote(ByteSpan app_report, const sgx::AttKeyId&,
                                     sgx::QeReportInfo* qe_report_info) {
  auto layout = sgx::CheckSimReportMac(target_info_, app_report);
  if (!layout.ok()) {
    aesm::AesmError code = layout.status().code() == Status::Code::kPermissionDenied
                               ? aesm::AesmError::kInvalidReport
                               : aesm::AesmError::kParameter;
    return Err(code, layout.status().message());
  }
  sgx::Array<16> cpusvn{};
  std::memcpy(cpusvn.data(), app_report.data(), 16);
  const sim::TcbProfile* profile = sim::FindTcbProfile(cpusvn);
  if (profile == nullptr) profile = &sim::DefaultTcbProfile();
  size_t index = size_t(profile - sim::TcbProfiles().data());

  Bytes quote = templates_[index];
  std::memcpy(quote.data() + sgx::kQuoteAppReportOffset, app_report.data(), sgx::ReportBody::kSize);
  auto sig = platform_.attestation_key().Sign({quote.data(), sgx::kQuoteSignedSize});
  if (!sig.ok()) return Err(aesm::AesmError::kUnexpected, sig.status().message());
  std::memcpy(quote.data() + sgx::kQuoteSignatureOffset, sig->data(), sig->size());

  if (qe_report_info != nullptr) {
    sgx::ReportBody body = sim::SimQeReportBody(profile->cpusvn);
    crypto::Sha256Digest digest = crypto::Sha256({qe_report_info->nonce, quote});
    std::copy(digest.begin(), digest.end(), body.report_data.begin());
    auto report = sgx::MakeSimReport(qe_report_info->app_target_info, body);
    if (!report.ok()) {
      return Err(aesm::AesmError::kUnableToGenerateQeReport, report.status().message());
    }
    qe_report_info->qe_report = *report;
  }
  return quote;
}

}  // namespace confcom::quoting
