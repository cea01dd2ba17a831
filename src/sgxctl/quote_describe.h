// A complete, structured description of a parsed v3 quote (every header and report field,
// the keys, the certification data and, for a PCK chain, each certificate with the PCK's SGX
// extension), as JSON; RenderText() turns it into the indented text `sgxctl inspect` prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sgx/quote_v3.h"

namespace confcom::sgxctl {

nlohmann::ordered_json DescribeReportBody(const sgx::ReportBody& body);
nlohmann::ordered_json DescribeQuote(const sgx::ParsedQuote& parsed);
std::string RenderText(const nlohmann::ordered_json& j, int indent = 0);

}  // namespace confcom::sgxctl
