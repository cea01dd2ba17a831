// A complete, structured description of a parsed v3 quote (every header and report field,
// the keys, the certification data and, for a PCK chain, each certificate with the PCK's SGX
// extension), as JSON; RenderText() turns it into the indented text `sgxctl inspect` prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sgx/quote_v3.h"

namespace confcom::sgxctl {

// All three are pure and never fail: what cannot be decoded (a certificate, the SGX extension)
// is described as such in the output.
// Every field of a report body (`sgxctl inspect`'s "app_report" and "qe_report").
nlohmann::ordered_json DescribeReportBody(const sgx::ReportBody& body);
// The whole quote: header, app report, signature data, certification data, trailing bytes.
nlohmann::ordered_json DescribeQuote(const sgx::ParsedQuote& parsed);
// Any JSON as indented "key: value" text, starting `indent` levels (two spaces each) deep.
std::string RenderText(const nlohmann::ordered_json& j, int indent = 0);

}  // namespace confcom::sgxctl
