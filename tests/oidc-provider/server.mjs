// Local OAuth 2.0 / OpenID Connect authorization server for the conformance
// harness, built on panva's OpenID-certified `oidc-provider` (see README.md).
//
//   node tests/oidc-provider/server.mjs --port 0
//
// Listens on 127.0.0.1 only. Prints exactly one line to stdout when ready:
//   listening on http://127.0.0.1:<port>
// and nothing else to stdout afterwards (oidc-provider's own notices are sent
// to stderr). Client secrets come from OIDC_WEB_SECRET and OIDC_WEB2_SECRET.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints NOTICE lines with console.info (stdout): keep stdout
// reserved for the single "listening on" line.
console.log = console.info = console.debug = (...args) => console.error(...args);

function fail(message) {
  process.stderr.write(`oidc-provider server: ${message}\n`);
  process.exit(1);
}

let port;
try {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${values.port}`);
} catch (err) {
  fail(`${err.message}; usage: node server.mjs --port <0-65535>`);
}

const webSecret = process.env.OIDC_WEB_SECRET;
const web2Secret = process.env.OIDC_WEB2_SECRET;
if (!webSecret || !web2Secret) {
  fail('OIDC_WEB_SECRET and OIDC_WEB2_SECRET must both be set to non-empty client secrets');
}

const { default: Provider } = await import('oidc-provider');

// Per-start signing key and cookie keys: nothing is fetched or read from disk.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const webClient = {
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

const configuration = {
  // Default in-memory adapter (adapter left undefined).
  clients: [
    {
      ...webClient,
      client_id: 'conformance-web',
      client_secret: webSecret,
      redirect_uris: ['https://127.0.0.1:80/oidc/callback', 'https://127.0.0.1:80/oidc/cb?tenant=acme'],
    },
    {
      ...webClient,
      client_id: 'conformance-web-2',
      client_secret: web2Secret,
      redirect_uris: ['https://127.0.0.1:80/oidc/second'],
    },
    {
      // Public client: oidc-provider's default pkce.required() demands PKCE
      // (S256, the only method it supports) for token_endpoint_auth_method none.
      client_id: 'conformance-public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://127.0.0.1:80/oidc/public'],
    },
  ],
  // openid + offline_access are the defaults; email and profile come from claims.
  scopes: ['openid', 'offline_access'],
  claims: {
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.test`, email_verified: false, name: id };
      },
    };
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: true }, // built-in login and consent pages (default)
    revocation: { enabled: true }, // RFC 7009 token revocation
  },
};

let handler = (req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
server.on('error', (err) => fail(`cannot listen: ${err.message}`));

server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  const issuer = `http://127.0.0.1:${actual}`;
  let provider;
  try {
    provider = new Provider(issuer, configuration);
  } catch (err) {
    process.stderr.write(`oidc-provider server: configuration rejected: ${err.message}\n`);
    process.exit(1);
  }
  // oidc-provider renders its pages but leaves their protection to the deployment: its
  // development login and consent pages carry no anti-framing headers. A deployment must add
  // them (RFC 9700 §4.16: authorization servers MUST prevent clickjacking), as this one does for
  // every HTML page. Without this, the harness's BP-01 and BP-02 fail here, rightly.
  provider.use(async (ctx, next) => {
    await next();
    if (String(ctx.response.type || '').startsWith('text/html')) {
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    }
  });
  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`oidc-provider server_error on ${ctx.method} ${ctx.path}: ${err.message}\n`);
  });
  handler = provider.callback();
  process.stdout.write(`listening on ${issuer}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
