#!/usr/bin/env bash
# Independent check of sgx-attest's tokens: python3-cryptography and the openssl CLI verify
# tokens made by src/attest/token from the JWKS alone (usage: independent_check.sh SAMPLE_TOOL).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
"$1" "$DIR"
python3 "$HERE/independent_check.py" "$DIR"

# The openssl CLI: the certificate from x5c[0], then the RS256 signature over header.payload.
python3 - "$DIR" <<'PY'
import base64, json, sys
d = sys.argv[1]
jwks = json.load(open(f"{d}/jwks.json"))
tok = open(f"{d}/token.jwt").read()
h, p, s = tok.split(".")
kid = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"]
key = next(k for k in jwks["keys"] if k["kid"] == kid)
open(f"{d}/cert.der", "wb").write(base64.b64decode(key["x5c"][0]))
open(f"{d}/input", "w").write(h + "." + p)
open(f"{d}/sig", "wb").write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
PY
openssl x509 -inform DER -in "$DIR/cert.der" -noout -pubkey >"$DIR/pub.pem"
openssl dgst -sha256 -verify "$DIR/pub.pem" -signature "$DIR/sig" "$DIR/input"
subject="$(openssl x509 -inform DER -in "$DIR/cert.der" -noout -subject -nameopt RFC2253)"
issuer="$(openssl x509 -inform DER -in "$DIR/cert.der" -noout -issuer -nameopt RFC2253)"
[[ "$subject" == "subject=CN=$(cat "$DIR/issuer.txt")" ]] || { echo "subject: $subject"; exit 1; }
[[ "$issuer" == "issuer=CN=$(cat "$DIR/issuer.txt")" ]] || { echo "issuer: $issuer"; exit 1; }
openssl verify -no-CApath -no-CAfile -partial_chain -CAfile <(openssl x509 -inform DER -in "$DIR/cert.der") \
  <(openssl x509 -inform DER -in "$DIR/cert.der") >/dev/null
# A flipped byte in the payload must fail.
printf 'x' >>"$DIR/input"
if openssl dgst -sha256 -verify "$DIR/pub.pem" -signature "$DIR/sig" "$DIR/input" >/dev/null 2>&1; then
  echo "openssl accepted a tampered token"; exit 1
fi
echo "independent check: OK"
