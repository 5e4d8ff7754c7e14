// Reads a JSON array of prometheus-operator resources on stdin; prints one line per resource
// ("ok Kind/name" or "error Kind/name: message") and exits 1 when any fails its schema.
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const resources = JSON.parse(Buffer.concat(chunks).toString("utf8"));

let failed = 0;
for (const resource of resources) {
  const name = `${resource.kind}/${resource.metadata?.name}`;
  const Model = monitoring[resource.kind];
  if (resource.apiVersion !== "monitoring.coreos.com/v1" || typeof Model !== "function") {
    console.log(`error ${name}: not a monitoring.coreos.com/v1 kind`);
    failed += 1;
    continue;
  }
  try {
    new Model(resource).validate();
    console.log(`ok ${name}`);
  } catch (err) {
    console.log(`error ${name}: ${err.message}`);
    failed += 1;
  }
}
process.exit(failed ? 1 : 0);
