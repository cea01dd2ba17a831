// Microsoft's @azure/attestation client, unchanged, against an attestation service that claims
// to speak Azure Attestation's (MAA) API: attest with Binary and JSON runtime data, OpenID
// metadata, signers, the SDK's own token validation, the refusals the service must give, and
// (when the config has "admin") policy get/set/reset through AttestationAdministrationClient.
//
//   NODE_EXTRA_CA_CERTS=ca.crt node maa_client.mjs config.json
//
// config.json (written by tests/attest/clients/maa_clients_test.cc):
//   url                   the service, https://HOST:PORT (also the expected issuer)
//   quote, runtime        a quote whose REPORTDATA starts with SHA-256(runtime file's bytes)
//   quoteJson, runtimeJson  the same for a JSON runtime document (the quote is also sent as an
//                         Open Enclave report with the Binary runtime data)
//   expect                {mrenclave, mrsigner, productId, svn} of those quotes
//   tokenOut              where to write the Binary attestation's token (for other clients)
//   refusals              [{name, quote, runtime?, runtimeJson?, draftPolicy?, url?, status,
//                          contains: [...]}]: each must fail with that HTTP status and message
//   admin                 {bearer, badBearer, policy, policyClaim, debugQuote, debugRuntime,
//                          debugStatus, debugContains: [...], badBearerStatus}
// Prints "PASS <check>" or "FAIL <check>: <why>" per check, then "maa-client: N passed, M
// failed"; exits 1 when a check failed, 2 on a bad config.
import fs from "node:fs";
import crypto from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import attestation from "@azure/attestation";

const { AttestationClient, AttestationAdministrationClient, createAttestationPolicyToken } =
  attestation;

let passed = 0;
let failed = 0;
function pass(name, detail = "") {
  passed++;
  console.log(`PASS ${name}${detail ? ": " + detail : ""}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${why}`);
}
function check(name, cond, why, detail = "") {
  if (cond) pass(name, detail);
  else fail(name, why);
  return cond;
}
// Runs one named check; an exception is its failure (with the SDK's status code if any).
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    fail(name, e instanceof Error ? `${e.name} ${e.statusCode ?? ""} ${e.message}` : `threw ${e}`);
  }
}

if (process.argv.length !== 3) {
  console.error("usage: node maa_client.mjs config.json");
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const url = config.url;
const read = (path) => new Uint8Array(fs.readFileSync(path));
// What the SDK checks on every token when asked: signature (kid -> /certs x5c), exp, nbf, iss.
const validationOptions = {
  validateToken: true,
  validateExpirationTime: true,
  validateNotBeforeTime: true,
  validateIssuer: true,
  expectedIssuer: url,
  timeValidationSlack: 10,
};
const client = new AttestationClient(url, { validationOptions });
const decodeHeader = (jws) => JSON.parse(Buffer.from(jws.split(".")[0], "base64url").toString());

// The SDK reads the clock with `new Date()`; this runs fn with that clock moved by `seconds`.
function withClockShift(seconds, fn) {
  const RealDate = globalThis.Date;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + seconds * 1000);
      else super(...args);
    }
  }
  globalThis.Date = ShiftedDate;
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

await step("getOpenIdMetadata", async () => {
  const m = await client.getOpenIdMetadata();
  check("getOpenIdMetadata", m.issuer === url && m.jwks_uri === url + "/certs",
        `issuer ${m.issuer}, jwks_uri ${m.jwks_uri}; expected ${url} and ${url}/certs`,
        `issuer ${m.issuer}`);
});

let signers = [];
await step("getAttestationSigners", async () => {
  signers = await client.getAttestationSigners();
  const bad = signers.filter((s) => typeof s.keyId !== "string" || s.certificates.length === 0);
  let subjects = [];
  try {
    subjects = signers.map((s) => new crypto.X509Certificate(s.certificates[0]).subject);
  } catch (e) {
    return fail("getAttestationSigners", `an x5c certificate does not parse: ${e.message}`);
  }
  check("getAttestationSigners", signers.length > 0 && bad.length === 0 &&
        subjects.every((s) => s === `CN=${url}`),
        `${signers.length} signer(s), ${bad.length} without kid/x5c, subjects ${subjects}`,
        `${signers.length} signer(s), subject CN=${url}`);
});

const expect = config.expect;
function checkSgxClaims(name, body) {
  const wrong = [];
  if (body.mrEnclave !== expect.mrenclave) wrong.push(`mrEnclave ${body.mrEnclave}`);
  if (body.mrSigner !== expect.mrsigner) wrong.push(`mrSigner ${body.mrSigner}`);
  if (body.productId !== expect.productId) wrong.push(`productId ${body.productId}`);
  if (body.svn !== expect.svn) wrong.push(`svn ${body.svn}`);
  if (body.isDebuggable !== false) wrong.push(`isDebuggable ${body.isDebuggable}`);
  if (body.verifierType !== "sgx") wrong.push(`verifierType ${body.verifierType}`);
  if (body.issuer !== url) wrong.push(`issuer ${body.issuer}`);
  if (body.version !== "1.0") wrong.push(`version ${body.version}`);
  if (!(body.policyHash instanceof Uint8Array) || body.policyHash.length !== 32)
    wrong.push("policyHash is not 32 bytes");
  if (typeof body.uniqueId !== "string" || body.uniqueId.length === 0) wrong.push("no jti");
  return check(name, wrong.length === 0, wrong.join(", "), `mrenclave ${body.mrEnclave}`);
}

// Binary runtime data: echoed as x-ms-sgx-ehd, which the SDK decodes to enclaveHeldData.
await step("attestSgxEnclave Binary", async () => {
  const runtime = read(config.runtime);
  const found = [];
  const res = await client.attestSgxEnclave(read(config.quote), {
    runTimeData: runtime,
    validationOptions: {
      ...validationOptions,
      validateAttestationToken: (token, signer) => {
        found.push(signer);
        return [];
      },
    },
  });
  if (!checkSgxClaims("attestSgxEnclave Binary", res.body)) return;
  const ehd = res.body.enclaveHeldData;
  check("Binary runtime data echoed (x-ms-sgx-ehd)",
        ehd instanceof Uint8Array && Buffer.compare(Buffer.from(ehd), Buffer.from(runtime)) === 0,
        `enclaveHeldData ${ehd && Buffer.from(ehd).toString("hex")}`);
  const header = decodeHeader(res.token.serialize());
  check("token header as MAA's", header.alg === "RS256" && header.typ === "JWT" &&
        header.jku === url + "/certs" && typeof header.kid === "string",
        JSON.stringify(header), JSON.stringify(header));
  check("SDK validation found the signer", found.length === 1 && found[0] &&
        found[0].keyId === header.kid, `signer ${found[0] && found[0].keyId}, kid ${header.kid}`);
  if (config.tokenOut) fs.writeFileSync(config.tokenOut, res.token.serialize());

  // The SDK's own checks on the same token: 9 h later it has expired, an hour earlier it is
  // not valid yet, another issuer is reported, another signer set finds no signature.
  const opts = { ...validationOptions, timeValidationSlack: 0 };
  const later = withClockShift(9 * 3600, () => res.token.getTokenProblems(signers, opts));
  check("SDK refuses the token 9 h later", later.includes("AttestationToken has expired."),
        JSON.stringify(later));
  const earlier = withClockShift(-3600, () => res.token.getTokenProblems(signers, opts));
  check("SDK refuses the token an hour early",
        earlier.includes("AttestationToken is not yet valid."), JSON.stringify(earlier));
  const other = res.token.getTokenProblems(signers, { ...opts, expectedIssuer: "https://other" });
  check("SDK refuses another issuer", other.some((p) => p.startsWith("Found issuer: " + url)),
        JSON.stringify(other));
  // With no key of that kid the SDK tries the token header's own key, which MAA's tokens do not
  // carry: jsrsasign then throws (a string) instead of reporting a problem. Either is a refusal.
  let noKeys;
  try {
    noKeys = res.token.getTokenProblems([], opts);
  } catch (e) {
    noKeys = [`threw: ${e}`];
  }
  check("SDK refuses the token without the service's keys", noKeys.length > 0,
        "no problem reported", JSON.stringify(noKeys));
});

// JSON runtime data: parsed by the service and returned as the x-ms-runtime object.
await step("attestSgxEnclave JSON", async () => {
  const text = fs.readFileSync(config.runtimeJson);
  const res = await client.attestSgxEnclave(read(config.quoteJson), {
    runTimeJson: new Uint8Array(text),
  });
  if (!checkSgxClaims("attestSgxEnclave JSON", res.body)) return;
  // The same JSON value; members may come back in another order (JSON objects are unordered).
  const want = JSON.parse(text.toString());
  check("JSON runtime data returned (x-ms-runtime)",
        isDeepStrictEqual(res.body.runTimeClaims, want) &&
          res.body.enclaveHeldData === undefined,
        `runTimeClaims ${JSON.stringify(res.body.runTimeClaims)}, enclaveHeldData ` +
          `${res.body.enclaveHeldData}`);
});

// Open Enclave's evidence: its 16-byte header (version 1, type 2 = SGX remote, size) and the
// same quote, through attestOpenEnclave.
await step("attestOpenEnclave", async () => {
  const quote = read(config.quote);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(1, 0);
  header.writeUInt32LE(2, 4);
  header.writeBigUInt64LE(BigInt(quote.length), 8);
  const res = await client.attestOpenEnclave(new Uint8Array(Buffer.concat([header, quote])), {
    runTimeData: read(config.runtime),
  });
  checkSgxClaims("attestOpenEnclave", res.body);
});

// Each refusal: the SDK throws a RestError carrying the service's status and error.message.
async function expectRefusal(r, attestOnce) {
  try {
    await attestOnce();
    fail(r.name, "the service attested it");
  } catch (e) {
    const missing = (r.contains ?? []).filter((s) => !String(e.message).includes(s));
    check(r.name, e.statusCode === r.status && missing.length === 0,
          `status ${e.statusCode} (want ${r.status}), message "${e.message}"` +
            (missing.length ? `, missing ${JSON.stringify(missing)}` : ""),
          `${e.statusCode} "${e.message}"`);
  }
}
for (const r of config.refusals ?? []) {
  const c = r.url ? new AttestationClient(r.url, { validationOptions }) : client;
  const options = {};
  if (r.runtime) options.runTimeData = read(r.runtime);
  if (r.runtimeJson) options.runTimeJson = read(r.runtimeJson);
  if (r.draftPolicy) options.draftPolicyForAttestation = r.draftPolicy;
  await expectRefusal(r, () => c.attestSgxEnclave(read(r.quote), options));
}

// Administration with a fixed bearer token (the service asks the API server who it is).
const admin = config.admin;
if (admin) {
  const credential = (token) => ({
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600 * 1000 }),
  });
  const adminClient = new AttestationAdministrationClient(url, credential(admin.bearer), {
    validationOptions,
  });
  let before = "";
  await step("getPolicy", async () => {
    const res = await adminClient.getPolicy("SgxEnclave");
    before = res.body;
    check("getPolicy", before.startsWith("version="), `policy "${before}"`,
          `${before.length} characters`);
  });
  await step("setPolicy", async () => {
    const res = await adminClient.setPolicy("SgxEnclave", admin.policy);
    // MAA answers with the SHA-256 of the policy JWS the client sent (the SDK's own tests).
    const sent = createAttestationPolicyToken(admin.policy).serialize();
    const want = crypto.createHash("sha256").update(sent).digest();
    const got = res.body.policyTokenHash;
    check("setPolicy", res.body.policyResolution === "Updated" &&
          got instanceof Uint8Array && Buffer.compare(Buffer.from(got), want) === 0,
          `policyResolution ${res.body.policyResolution}, policyTokenHash ` +
            `${got && Buffer.from(got).toString("hex")}, expected ${want.toString("hex")}`,
          res.body.policyResolution);
  });
  await step("getPolicy after setPolicy", async () => {
    const res = await adminClient.getPolicy("SgxEnclave");
    check("getPolicy after setPolicy", res.body === admin.policy, `policy "${res.body}"`);
  });
  await step("the next token follows the new policy", async () => {
    const res = await client.attestSgxEnclave(read(config.quote), {
      runTimeData: read(config.runtime),
    });
    const body = res.token.getBody();
    const [type, value] = admin.policyClaim;
    const got = body[type] ?? (body["x-ms-policy"] ?? {})[type];
    check("the next token follows the new policy", got === value,
          `claim ${type} = ${JSON.stringify(got)}, want ${JSON.stringify(value)}`,
          `${type} = ${JSON.stringify(got)}`);
  });
  await expectRefusal(
    { name: "debug enclave refused under the set policy", status: admin.debugStatus,
      contains: admin.debugContains },
    () => client.attestSgxEnclave(read(admin.debugQuote), { runTimeData: read(admin.debugRuntime) }));
  await step("resetPolicy", async () => {
    const res = await adminClient.resetPolicy("SgxEnclave");
    check("resetPolicy", res.body.policyResolution === "Removed",
          `policyResolution ${res.body.policyResolution}`, res.body.policyResolution);
  });
  await step("getPolicy after resetPolicy", async () => {
    const res = await adminClient.getPolicy("SgxEnclave");
    check("getPolicy after resetPolicy", res.body !== admin.policy && res.body === before,
          `policy "${res.body}"`);
  });
  if (admin.badBearer) {
    const intruder = new AttestationAdministrationClient(url, credential(admin.badBearer), {
      validationOptions,
    });
    try {
      await intruder.setPolicy("SgxEnclave", admin.policy);
      fail("setPolicy with an unauthorised token", "the service changed the policy");
    } catch (e) {
      check("setPolicy with an unauthorised token", e.statusCode === admin.badBearerStatus,
            `status ${e.statusCode} (want ${admin.badBearerStatus}), message "${e.message}"`,
            `${e.statusCode} "${e.message}"`);
    }
  }
}

console.log(`maa-client: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
