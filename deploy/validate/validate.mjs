#!/usr/bin/env node
// Validates rendered Kubernetes manifests OFFLINE against the Kubernetes OpenAPI schemas that
// kubernetes-models bundles (compiled JSON-schema validators, no cluster needed).
//
//   kubectl kustomize deploy/overlays/with-quote-helper | node validate.mjs [--label NAME]
//   node validate.mjs FILE.yaml [FILE.yaml ...]
//
// Prints one line per object ("OK kind namespace/name") and, for each invalid object, one
// line per error with the JSON path of the field. Exit 0 when every object is valid, 1 when any
// object is invalid or has no known schema, 2 when the input cannot be read or parsed.
//
// What the schemas check: types (e.g. an env value 1 instead of "1"), enums, required fields.
// What they do not: unknown field names (the Kubernetes schemas allow extra properties), so
// scripts/check-manifests.sh asserts the security-relevant fields explicitly.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function usage() {
  console.error("usage: node validate.mjs [--label NAME] [FILE ...]   (no FILE: read stdin)");
  process.exit(2);
}

const args = process.argv.slice(2);
let label = "";
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--label") {
    if (i + 1 >= args.length) usage();
    label = args[++i];
  } else if (args[i] === "-h" || args[i] === "--help") {
    usage();
  } else {
    files.push(args[i]);
  }
}

// "apps/v1" + "DaemonSet" -> "kubernetes-models/apps/v1/DaemonSet"; core "v1" -> "kubernetes-models/v1/Pod".
async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind)) {
    return null;
  }
  const spec = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    const mod = await import(spec);
    return mod[kind] ?? null;
  } catch {
    return null;
  }
}

// Custom resources kubernetes-models has no schema for: the fields their CRDs require, checked
// by hand (cert-manager.io/v1, used by deploy/components/webhook-cert-manager). Returns errors.
const isString = (v) => typeof v === "string" && v.length > 0;
const customResources = {
  "cert-manager.io/v1/Issuer": (o) => {
    const kinds = ["selfSigned", "ca", "acme", "vault", "venafi"].filter((k) => o.spec?.[k] !== undefined);
    const errors = kinds.length === 1 ? [] : [`/spec: exactly one issuer type is required, found ${kinds.length}`];
    if (kinds[0] === "ca" && !isString(o.spec.ca?.secretName)) errors.push("/spec/ca/secretName: required string");
    return errors;
  },
  "cert-manager.io/v1/Certificate": (o) => {
    const errors = [];
    const sp = o.spec ?? {};
    if (!isString(sp.secretName)) errors.push("/spec/secretName: required string");
    if (!isString(sp.issuerRef?.name)) errors.push("/spec/issuerRef/name: required string");
    if (sp.issuerRef?.kind !== undefined && !["Issuer", "ClusterIssuer"].includes(sp.issuerRef.kind)) errors.push("/spec/issuerRef/kind: must be Issuer or ClusterIssuer");
    if (sp.dnsNames !== undefined && !(Array.isArray(sp.dnsNames) && sp.dnsNames.every(isString))) errors.push("/spec/dnsNames: must be strings");
    if (!isString(sp.commonName) && !(sp.dnsNames ?? []).length) errors.push("/spec: commonName or dnsNames required");
    for (const d of ["duration", "renewBefore"]) {
      if (sp[d] !== undefined && !/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(sp[d])) errors.push(`/spec/${d}: not a Go duration`);
    }
    const alg = sp.privateKey?.algorithm;
    if (alg !== undefined && !["RSA", "ECDSA", "Ed25519"].includes(alg)) errors.push("/spec/privateKey/algorithm: must be RSA, ECDSA or Ed25519");
    return errors;
  },
};

function describe(obj) {
  const kind = obj?.kind ?? "<no kind>";
  const ns = obj?.metadata?.namespace;
  const name = obj?.metadata?.name ?? "<no name>";
  return `${kind} ${ns ? ns + "/" : ""}${name}`;
}

function errorLines(err) {
  const errors = err?.errors ?? err?.details;
  if (!Array.isArray(errors) || errors.length === 0) return [String(err?.message ?? err)];
  return errors.map((e) => {
    const path = e.instancePath || "/";
    let detail = e.message ?? e.keyword;
    if (!e.message) {
      if (e.keyword === "type") detail = `must be ${e.params?.type}`;
      else if (e.keyword === "required") detail = `missing required field "${e.params?.missingProperty}"`;
      else if (e.keyword === "enum") detail = `must be one of ${JSON.stringify(e.params?.allowedValues)}`;
      else detail = `${e.keyword} ${JSON.stringify(e.params ?? {})}`;
    }
    return `${path}: ${detail}`;
  });
}

async function validateText(text, source) {
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: true });
  } catch (e) {
    console.error(`${source}: cannot parse YAML: ${e.message}`);
    return { objects: 0, bad: 0, fatal: true };
  }
  let objects = 0;
  let bad = 0;
  for (const doc of docs) {
    if (doc.errors?.length) {
      console.error(`${source}: cannot parse YAML: ${doc.errors[0].message}`);
      return { objects, bad, fatal: true };
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // empty document
    objects++;
    const items = obj.kind?.endsWith("List") && Array.isArray(obj.items) ? obj.items : [obj];
    for (const item of items) {
      const what = describe(item);
      const custom = customResources[`${item?.apiVersion}/${item?.kind}`];
      if (custom) {
        const errors = isString(item?.metadata?.name) ? custom(item) : ["/metadata/name: required string"];
        if (errors.length) {
          bad++;
          console.log(`FAIL ${what}`);
          for (const line of errors) console.log(`     ${line}`);
        } else {
          console.log(`OK   ${what} (CRD fields checked by hand)`);
        }
        continue;
      }
      const Model = await modelFor(item?.apiVersion, item?.kind);
      if (!Model) {
        bad++;
        console.log(`FAIL ${what}: no schema for apiVersion "${item?.apiVersion}" kind "${item?.kind}"`);
        continue;
      }
      try {
        new Model(item).validate();
        console.log(`OK   ${what}`);
      } catch (e) {
        bad++;
        console.log(`FAIL ${what}`);
        for (const line of errorLines(e)) console.log(`     ${line}`);
      }
    }
  }
  return { objects, bad, fatal: false };
}

const sources = files.length ? files : ["-"];
let total = 0;
let bad = 0;
for (const f of sources) {
  let text;
  try {
    text = readFileSync(f === "-" ? 0 : f, "utf8");
  } catch (e) {
    console.error(`cannot read ${f === "-" ? "stdin" : f}: ${e.message}`);
    process.exit(2);
  }
  const name = label || (f === "-" ? "stdin" : f);
  const r = await validateText(text, name);
  if (r.fatal) process.exit(2);
  total += r.objects;
  bad += r.bad;
}
if (total === 0) {
  console.error(`${label || sources.join(" ")}: no objects found`);
  process.exit(1);
}
if (bad > 0) {
  console.error(`${label || sources.join(" ")}: ${bad} invalid object(s)`);
  process.exit(1);
}
