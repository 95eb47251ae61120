'use strict';
// Lists a few Centralita resources through the official Genesys Cloud
// JavaScript client (npm purecloud-platform-client-v2) and prints ONE JSON
// line on stdout. It asserts nothing: the Go test that runs it does.
//
// Environment:
//   CENTRALITA_URL            e.g. http://127.0.0.1:38213 (gateway for login and API)
//   CENTRALITA_CLIENT_ID      client-credentials OAuth client id
//   CENTRALITA_CLIENT_SECRET  its secret
//
// Exit codes: 0 ok, 1 any error (details on stderr), 2 overall 30 s timeout.

const fs = require('fs');
const os = require('os');
const path = require('path');

const guard = setTimeout(() => {
  process.stderr.write('list.js: timed out after 30s\n');
  process.exit(2);
}, 30000);
guard.unref();

// The SDK reads ~/.genesyscloudjavascript/config (and watches it) when it is
// loaded. Point HOME at a fresh empty directory BEFORE requiring it so that
// no developer or CI config can change the gateway, logging or retries.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'centralita-sdk-home-'));
process.env.HOME = home;
process.on('exit', () => {
  try {
    fs.rmSync(home, { recursive: true, force: true });
  } catch (_) {
    // best effort
  }
});

const platformClient = require('purecloud-platform-client-v2');

function env(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set`);
  }
  return v;
}

function names(listing) {
  const entities = (listing && listing.entities) || [];
  return entities.map((e) => (e && e.name !== undefined ? e.name : null));
}

function describe(err) {
  // Login (axios) errors carry err.response; API errors from callApi are
  // rejected with the parsed response body itself (or the extended object
  // when setReturnExtendedResponses(true)); transport errors are plain Errors
  // (err.code like ECONNREFUSED).
  if (err && err.response) {
    return {
      message: err.message,
      code: err.code,
      method: err.config && err.config.method,
      url: err.config && err.config.url,
      status: err.response.status,
      body: err.response.data,
    };
  }
  if (err instanceof Error) {
    return {
      message: err.message,
      code: err.code,
      method: err.config && err.config.method,
      url: err.config && err.config.url,
    };
  }
  if (err && typeof err === 'object' && 'status' in err && 'body' in err) {
    return { status: err.status, body: err.body };
  }
  // Plain error body (Genesys shape: {message, code, status, ...}) or string.
  return { status: err && err.status, body: err };
}

async function main() {
  const url = new URL(env('CENTRALITA_URL'));
  const clientId = env('CENTRALITA_CLIENT_ID');
  const clientSecret = env('CENTRALITA_CLIENT_SECRET');

  const client = platformClient.ApiClient.instance;
  const gateway = { host: url.hostname, protocol: url.protocol.replace(/:$/, '') };
  if (url.port !== '') gateway.port = Number(url.port);
  client.setGateway(gateway);

  await client.loginClientCredentialsGrant(clientId, clientSecret);

  const usersApi = new platformClient.UsersApi();
  const routingApi = new platformClient.RoutingApi();
  const presenceApi = new platformClient.PresenceApi();

  const page1 = await usersApi.getUsers({ pageSize: 3, pageNumber: 1 });
  const page2 = await usersApi.getUsers({ pageSize: 3, pageNumber: 2 });
  const queues = await routingApi.getRoutingQueues({ pageSize: 25 });
  const wrapupcodes = await routingApi.getRoutingWrapupcodes({ pageSize: 100 });
  const presencedefinitions = await presenceApi.getPresencedefinitions({ pageSize: 100 });

  const out = {
    users: {
      page1: names(page1),
      page2: names(page2),
      total: page1.total,
      pageCount: page1.pageCount,
      pageSize: page1.pageSize,
      pageNumber: page1.pageNumber,
      nextUri: page1.nextUri === undefined ? null : page1.nextUri,
    },
    queues: names(queues),
    wrapupcodes: names(wrapupcodes),
    presencedefinitions: names(presencedefinitions),
  };
  await new Promise((resolve) => process.stdout.write(JSON.stringify(out) + '\n', resolve));
}

main().then(
  () => process.exit(0),
  (err) => {
    let text;
    try {
      text = JSON.stringify(describe(err));
    } catch (_) {
      text = String(err);
    }
    process.stderr.write(`list.js: ${text}\n`, () => process.exit(1));
  },
);
