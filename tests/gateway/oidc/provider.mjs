// A real OpenID Connect provider for the gateway's OIDC tests: panva's oidc-provider with its development
// interactions (a login form that accepts any password for a known account id, then a consent form).
// Usage: node provider.mjs <config.json>; config: {port, client_id, client_secret, redirect_uri, people}
// where people maps an account id to its claims. Prints "listening <issuer>" when ready.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: [config.redirect_uri],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // Authorization code with PKCE (S256) is required of every client.
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username", "locale"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["metas-test-oidc-cookie-key-0123456789"] },
  async findAccount(ctx, id) {
    const person = config.people[id];
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...person }; } };
  },
});
provider.proxy = false;
provider.listen(config.port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
