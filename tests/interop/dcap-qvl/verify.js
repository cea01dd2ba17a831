#!/usr/bin/env node
// Verifies a DCAP quote with @phala/dcap-qvl (an independent, pure-JavaScript port of Intel's
// QVL logic), trusting the given root instead of Intel's, with collateral as `sgxctl
// collateral` writes it. Prints {"status": <TCB status>} or {"error": <message>}; exit 0 when
// the verifier returned a verdict, 1 when it threw.
//
//   node verify.js QUOTE COLLATERAL_DIR [ROOT_PEM]   (ROOT_PEM default: COLLATERAL_DIR/root_ca.pem)
'use strict';
const fs = require('fs');
const path = require('path');
const { QuoteVerifier } = require('@phala/dcap-qvl');

function pemToDer(pem) {
  const body = pem.toString('utf8').replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

// Intel's signed documents as a PCCS serves them: {"<member>":{...},"signature":"<hex>"}. The
// verifier signs over the compact serialisation of the member, as QVL does.
function signedDocument(file, member) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { text: JSON.stringify(doc[member]), signature: doc.signature };
}

const [quoteFile, dir, rootFile] = process.argv.slice(2);
if (!quoteFile || !dir) {
  console.error('usage: node verify.js QUOTE COLLATERAL_DIR [ROOT_PEM]');
  process.exit(2);
}
const tcb = signedDocument(path.join(dir, 'tcb_info.json'), 'tcbInfo');
const qe = signedDocument(path.join(dir, 'qe_identity.json'), 'enclaveIdentity');
const tcbChain = fs.readFileSync(path.join(dir, 'tcb_signing_chain.pem'), 'utf8');
const collateral = {
  pck_crl_issuer_chain: fs.readFileSync(path.join(dir, 'pck_crl_issuer_chain.pem'), 'utf8'),
  root_ca_crl: fs.readFileSync(path.join(dir, 'root_ca_crl.der')).toString('hex'),
  pck_crl: fs.readFileSync(path.join(dir, 'pck_crl.der')).toString('hex'),
  tcb_info_issuer_chain: tcbChain,
  tcb_info: tcb.text,
  tcb_info_signature: tcb.signature,
  qe_identity_issuer_chain: tcbChain,
  qe_identity: qe.text,
  qe_identity_signature: qe.signature,
};
const root = pemToDer(fs.readFileSync(rootFile || path.join(dir, 'root_ca.pem')));
try {
  const report = QuoteVerifier.newWithRootCa(root).verify(fs.readFileSync(quoteFile), collateral,
                                                            Math.floor(Date.now() / 1000));
  console.log(JSON.stringify({ status: report.status, advisory_ids: report.advisory_ids }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  process.exit(1);
}
