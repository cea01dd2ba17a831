#!/usr/bin/env python3
"""The app side of examples/attest: get a quote for this enclave from the quote helper, have
sgx-attest attest it, keep the token for the relying party. Python's standard library and
`sgxctl` only.

  app.py --attest-url https://sgx-attest.confcom-system.svc:8443 --ca-file ca.crt \
      --token-out token.jwt

1. Runtime data: a JSON document the enclave wants bound to its quote (here a fresh nonce and
   the name of the app; a real enclave puts the public key the relying party should encrypt
   its secret to). Its SHA-256 goes into the first 32 bytes of REPORTDATA, which is how
   sgx-attest (and Azure Attestation) ties runtimeData to the quote.
2. `sgxctl quote` asks the quote helper for a DCAP quote of the (simulated) app enclave's report
   over the same calls Intel's quote library makes (examples/attesting-app).
3. POST /attest/SgxEnclave with the quote and the runtime data, as Azure Attestation's clients
   do; the answer is {"token": "<JWS>"}, or {"error": {"code", "message"}}.
Exit 0 with the token written; 1 when the service refused (its message printed); 2 otherwise.
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

API_VERSION = "2022-08-01"  # MAA's current GA version


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def quote_for(report_data, args, workdir):
    """The quote bytes from `sgxctl quote` for REPORTDATA = report_data (64 bytes max)."""
    out = os.path.join(workdir, "quote.bin")
    cmd = [args.sgxctl, "quote", "--report-data", report_data.hex(), "-o", out]
    if args.socket:
        cmd += ["--socket", args.socket]
    if args.mrenclave:
        cmd += ["--mrenclave", args.mrenclave]
    if args.mrsigner:
        cmd += ["--mrsigner", args.mrsigner]
    if args.debug:
        cmd.append("--debug")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"sgxctl quote failed: {r.stdout}{r.stderr}")
    with open(out, "rb") as f:
        return f.read()


def attest(url, ca_file, quote, runtime_json):
    """POSTs the quote; returns (status, answer as JSON)."""
    body = json.dumps({"quote": b64url(quote),
                       "runtimeData": {"data": b64url(runtime_json), "dataType": "JSON"}})
    request = urllib.request.Request(
        f"{url}/attest/SgxEnclave?api-version={API_VERSION}", data=body.encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.load(e)
        except ValueError:
            return e.code, {"error": {"code": "", "message": e.reason}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--attest-url", required=True, help="sgx-attest's URL, https://HOST:PORT")
    p.add_argument("--ca-file", help="CA bundle for sgx-attest's TLS certificate")
    p.add_argument("--token-out", required=True, help="where to write the token")
    p.add_argument("--sgxctl", default="sgxctl", help="the sgxctl program")
    p.add_argument("--socket", help="the quote helper's socket (sgxctl's default otherwise)")
    p.add_argument("--mrenclave", help="simulated app enclave's MRENCLAVE (64 hex)")
    p.add_argument("--mrsigner", help="simulated app enclave's MRSIGNER (64 hex)")
    p.add_argument("--debug", action="store_true", help="quote a DEBUG enclave")
    args = p.parse_args(argv)

    runtime = {"app": "confcom attest example", "nonce": secrets.token_hex(16)}
    runtime_json = json.dumps(runtime, separators=(",", ":")).encode()
    report_data = hashlib.sha256(runtime_json).digest()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            quote = quote_for(report_data, args, workdir)
        status, answer = attest(args.attest_url.rstrip("/"), args.ca_file, quote, runtime_json)
    except (OSError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if status != 200 or "token" not in answer:
        error = answer.get("error", {})
        print(f"refused by the attestation service: {status} {error.get('code', '')}: "
              f"{error.get('message', answer)}")
        return 1
    with open(args.token_out, "w") as f:
        f.write(answer["token"])
    print(f"attested: {len(quote)}-byte quote, runtime data {runtime_json.decode()}; "
          f"token written to {args.token_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
