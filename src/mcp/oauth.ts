// OAuth 2.1 for HTTP MCP servers, as the MCP authorization spec (2025-11-25) has it: protected resource metadata
// (from WWW-Authenticate's resource_metadata, then the well-known paths), authorization server metadata (RFC 8414,
// then OpenID Connect discovery; the 2025-03-26 default endpoints when there is none), the client (pre-registered in
// mcp.json, or dynamic registration, RFC 7591), the authorization code with PKCE (S256) and the resource parameter
// (RFC 8707) through a browser and a loopback callback, the client-credentials grant for machines, and refresh.
// Tokens are kept in byok's data directory (600, written whole), never printed, and sent only to the server and its
// authorization server.
import { createHash, createPrivateKey, type KeyObject, randomBytes, sign as cryptoSign } from "node:crypto"
import { readFileSync } from "node:fs"
import { type AuthMethod, expiring, loadTokens, saveTokens, tokenKey, type Tokens } from "./tokens.ts"
import { refusalFor } from "../lib/offline.ts"
import { mcpFetch } from "./net.ts"

/** The `oauth` field of a server's mcp.json entry. */
export interface OAuthSettings {
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly callbackPort?: number | undefined
  /** A Client ID Metadata Document's URL: the client id where the authorization server supports them. */
  readonly clientMetadataUrl?: string | undefined
  /** client_credentials: a PEM private key (EC P-256 or RSA) the client signs its assertion with (private_key_jwt). */
  readonly privateKeyFile?: string | undefined
  /**
   * "client_credentials" for a machine without a person; "cross_app_access" for an enterprise's identity provider
   * (SEP-990: its ID token exchanged there for an identity assertion, then that for the server's token); the
   * authorization code otherwise.
   */
  readonly grant?: "authorization_code" | "client_credentials" | "cross_app_access" | undefined
  /** cross_app_access: the identity provider's token endpoint, byok's client there, and the user's ID token. */
  readonly idpTokenEndpoint?: string | undefined
  readonly idpClientId?: string | undefined
  readonly idpClientSecret?: string | undefined
  readonly idToken?: string | undefined
}


type Json = Record<string, unknown>

// ---- discovery ----------------------------------------------------------------------------------------------------

/** A parameter of a WWW-Authenticate challenge (`resource_metadata`, `scope`, `error`). */
export const challengeParam = (header: string | undefined, name: string): string | undefined =>
  header === undefined ? undefined : new RegExp(`${name}="([^"]*)"|${name}=([^,\\s]+)`, "i").exec(header)?.slice(1).find((v) => v !== undefined)

const getJson = async (url: string): Promise<Json | undefined> => {
  try {
    const response = await mcpFetch(url, { headers: { accept: "application/json", "MCP-Protocol-Version": "2025-11-25" } })
    if (!response.ok) return undefined
    const value: unknown = await response.json()
    return typeof value === "object" && value !== null ? (value as Json) : undefined
  } catch {
    return undefined
  }
}

/** Protected resource metadata: where WWW-Authenticate says, else the path-aware well-known URL, else the root one. */
const resourceMetadata = async (serverUrl: string, challenge: string | undefined): Promise<Json | undefined> => {
  const given = challengeParam(challenge, "resource_metadata")
  const url = new URL(serverUrl)
  const path = url.pathname.replace(/\/$/, "")
  for (const candidate of [given, ...(path !== "" ? [`${url.origin}/.well-known/oauth-protected-resource${path}`] : []), `${url.origin}/.well-known/oauth-protected-resource`]) {
    if (candidate === undefined) continue
    const found = await getJson(candidate)
    if (found !== undefined) return found
  }
  return undefined
}

export interface ServerMetadata {
  readonly issuer: string
  readonly authorizationEndpoint: string
  readonly tokenEndpoint: string
  readonly registrationEndpoint?: string | undefined
  readonly authMethods: ReadonlyArray<string>
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly grants?: ReadonlyArray<string> | undefined
  /** client_id_metadata_document_supported. */
  readonly cimd?: boolean | undefined
}

/**
 * Authorization server metadata: RFC 8414, then OpenID Connect discovery, path-aware first; without any, the
 * 2025-03-26 revision's default endpoints at the server's origin.
 */
const serverMetadata = async (issuer: string): Promise<ServerMetadata> => {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/$/, "")
  const candidates = path !== ""
    ? [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}/.well-known/openid-configuration${path}`, `${url.origin}${path}/.well-known/openid-configuration`]
    : [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`]
  for (const candidate of candidates) {
    const m = await getJson(candidate)
    if (m !== undefined && typeof m["authorization_endpoint"] === "string" && typeof m["token_endpoint"] === "string") {
      return {
        issuer: typeof m["issuer"] === "string" ? m["issuer"] : issuer,
        authorizationEndpoint: m["authorization_endpoint"],
        tokenEndpoint: m["token_endpoint"],
        registrationEndpoint: typeof m["registration_endpoint"] === "string" ? m["registration_endpoint"] : undefined,
        authMethods: Array.isArray(m["token_endpoint_auth_methods_supported"]) ? (m["token_endpoint_auth_methods_supported"] as Array<string>) : ["client_secret_basic"],
        scopes: Array.isArray(m["scopes_supported"]) ? (m["scopes_supported"] as Array<string>) : undefined,
        grants: Array.isArray(m["grant_types_supported"]) ? (m["grant_types_supported"] as Array<string>) : undefined,
        cimd: m["client_id_metadata_document_supported"] === true
      }
    }
  }
  return {
    issuer,
    authorizationEndpoint: `${url.origin}/authorize`,
    tokenEndpoint: `${url.origin}/token`,
    registrationEndpoint: `${url.origin}/register`,
    authMethods: ["client_secret_basic", "client_secret_post", "none"]
  }
}

/** The resource a token is for: the server's URL without its fragment (RFC 8707), as the spec canonicalises it. */
export const canonicalResource = (serverUrl: string): string => {
  const url = new URL(serverUrl)
  url.hash = ""
  return url.href.replace(/\/$/, "")
}

// ---- the flow -------------------------------------------------------------------------------------------------------

export interface Login {
  readonly serverUrl: string
  /** WWW-Authenticate of the 401 (or 403) that asked for it. */
  readonly challenge?: string | undefined
  readonly settings: OAuthSettings
  /** Opens the authorization URL (the browser); told the URL to print for a person on another machine. */
  readonly open: (url: string) => void
  /** Tokens from an earlier login (a step-up keeps the client). */
  readonly previous?: Tokens | undefined
  readonly timeoutMs?: number | undefined
}

/** An OAuth error code from a server, which is untrusted text: only the word the spec allows, else nothing. */
const word = (value: unknown): string | undefined =>
  typeof value === "string" && /^[\w.-]{1,64}$/.test(value) ? value : undefined

const base64url = (bytes: Buffer) => bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

const pickMethod = (supported: ReadonlyArray<string>, secret: string | undefined): AuthMethod =>
  secret === undefined
    ? "none"
    : supported.includes("client_secret_basic")
    ? "client_secret_basic"
    : supported.includes("client_secret_post")
    ? "client_secret_post"
    : "client_secret_basic"

/**
 * A signed client assertion (RFC 7523, private_key_jwt): the client is issuer and subject, the authorization server
 * the audience, for one minute. ES256 for an EC key, RS256 for an RSA one.
 */
const clientAssertion = (keyFile: string, clientId: string, audience: string): string => {
  let key: KeyObject
  try {
    key = createPrivateKey(readFileSync(keyFile, "utf8"))
  } catch (error) {
    throw new Error(`cannot read the private key ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? "not a PEM private key"}`)
  }
  const ec = key.asymmetricKeyType === "ec"
  if (!ec && key.asymmetricKeyType !== "rsa") throw new Error(`the private key ${keyFile} is neither EC nor RSA`)
  const now = Math.floor(Date.now() / 1000)
  const part = (value: unknown) => base64url(Buffer.from(JSON.stringify(value)))
  const input = `${part({ alg: ec ? "ES256" : "RS256", typ: "JWT" })}.${part({ iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 60, jti: base64url(randomBytes(16)) })}`
  const signature = cryptoSign("sha256", Buffer.from(input), ec ? { key, dsaEncoding: "ieee-p1363" } : key)
  return `${input}.${base64url(signature)}`
}

/** A token endpoint request with the client's authentication method. */
const tokenRequest = async (
  endpoint: string,
  params: Record<string, string>,
  client: { id: string; secret?: string | undefined; method: AuthMethod; assertion?: string | undefined }
): Promise<Json> => {
  const body = new URLSearchParams(params)
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" }
  if (client.method === "private_key_jwt" && client.assertion !== undefined) {
    body.set("client_id", client.id)
    body.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    body.set("client_assertion", client.assertion)
  } else if (client.method === "client_secret_basic" && client.secret !== undefined) {
    headers["authorization"] = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString("base64")}`
  } else {
    body.set("client_id", client.id)
    if (client.method === "client_secret_post" && client.secret !== undefined) body.set("client_secret", client.secret)
  }
  // (never redirected: the client's secret, the code or the refresh token would go wherever it points)
  const response = await mcpFetch(endpoint, { method: "POST", redirect: "error", headers, body }).catch(() => {
    throw new Error(`the token endpoint ${endpoint} cannot be reached, or redirects elsewhere (byok does not follow)`)
  })
  const value = await response.json().catch(() => ({})) as Json
  if (!response.ok || typeof value["access_token"] !== "string") {
    throw new Error(`the token endpoint ${endpoint} answered ${response.status}${word(value["error"]) !== undefined ? ` (${word(value["error"])})` : ""}`)
  }
  return value
}

const tokensOf = (value: Json, base: Omit<Tokens, "accessToken" | "refreshToken" | "expiresAt" | "scope">, keep?: Tokens): Tokens => ({
  ...base,
  accessToken: value["access_token"] as string,
  refreshToken: typeof value["refresh_token"] === "string" ? value["refresh_token"] : keep?.refreshToken,
  expiresAt: typeof value["expires_in"] === "number" ? Date.now() + value["expires_in"] * 1000 : undefined,
  scope: typeof value["scope"] === "string" ? value["scope"] : undefined
})

/** Logs in: discovery, the client, then the grant; the tokens, or an Error that says what failed. */
export const login = async (request: Login): Promise<Tokens> => {
  const resource = canonicalResource(request.serverUrl)
  const prm = await resourceMetadata(request.serverUrl, request.challenge)
  // The metadata must be about this server: a token for another resource is never asked for (RFC 9728).
  // (the server's own URL, or one it lies under: a path prefix ends at a segment, so /mc does not cover /mcp)
  const named = typeof prm?.["resource"] === "string" ? canonicalResource(prm["resource"]) : undefined
  if (named !== undefined && resource !== named && !resource.startsWith(`${named}/`)) {
    throw new Error(`the server's metadata names another resource (${named}), not ${resource}: byok will not log in for it`)
  }
  const issuer = Array.isArray(prm?.["authorization_servers"]) && typeof prm["authorization_servers"][0] === "string"
    ? prm["authorization_servers"][0]
    : new URL(request.serverUrl).origin
  const as = await serverMetadata(issuer)
  // Scopes: the challenge's, then the resource's, then what the user set; none when nothing says.
  const scope = challengeParam(request.challenge, "scope") ??
    (Array.isArray(prm?.["scopes_supported"]) ? (prm["scopes_supported"] as Array<string>).join(" ") : undefined) ??
    (request.settings.scopes !== undefined ? request.settings.scopes.join(" ") : undefined)
  // The client: pre-registered, the one an earlier login registered, or a new registration.
  // A Client ID Metadata Document (a URL the user's organisation hosts) where the server supports them.
  const cimd = request.settings.clientId === undefined && request.settings.clientMetadataUrl !== undefined && as.cimd ? request.settings.clientMetadataUrl : undefined
  let clientId = request.settings.clientId ?? cimd ?? request.previous?.clientId
  let clientSecret = request.settings.clientSecret ?? (request.settings.clientId === undefined ? request.previous?.clientSecret : undefined)
  let method: AuthMethod = request.previous?.authMethod ?? pickMethod(as.authMethods, clientSecret)
  if (request.settings.grant === "client_credentials") {
    if (clientId === undefined) throw new Error(`the client-credentials grant needs "oauth": { "clientId", "clientSecret" } in the server's entry`)
    const keyFile = request.settings.privateKeyFile
    method = keyFile !== undefined ? "private_key_jwt" : pickMethod(as.authMethods, clientSecret)
    const assertion = keyFile !== undefined ? clientAssertion(keyFile, clientId, as.issuer) : undefined
    const value = await tokenRequest(as.tokenEndpoint, { grant_type: "client_credentials", resource, ...(scope !== undefined ? { scope } : {}) }, { id: clientId, secret: clientSecret, method, assertion })
    return tokensOf(value, { clientId, clientSecret, tokenEndpoint: as.tokenEndpoint, authMethod: method, resource })
  }
  if (request.settings.grant === "cross_app_access") {
    const { idpTokenEndpoint, idToken, idpClientId, idpClientSecret } = request.settings
    if (clientId === undefined || idpTokenEndpoint === undefined || idToken === undefined) {
      throw new Error(`cross-app access needs "oauth": { "clientId", "idpTokenEndpoint", "idToken" } in the server's entry`)
    }
    // At the identity provider: the ID token for an identity assertion (ID-JAG) naming this server (RFC 8693).
    const exchanged = await tokenRequest(idpTokenEndpoint, {
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      requested_token_type: "urn:ietf:params:oauth:token-type:id-jag",
      subject_token: idToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      audience: as.issuer,
      resource,
      ...(scope !== undefined ? { scope } : {})
    }, { id: idpClientId ?? clientId, secret: idpClientSecret, method: idpClientSecret !== undefined ? "client_secret_post" : "none" })
    // At the server's authorization server: the assertion for its token (RFC 7523).
    method = pickMethod(as.authMethods, clientSecret)
    const value = await tokenRequest(as.tokenEndpoint, {
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: exchanged["access_token"] as string,
      resource,
      ...(scope !== undefined ? { scope } : {})
    }, { id: clientId, secret: clientSecret, method })
    return tokensOf(value, { clientId, clientSecret, tokenEndpoint: as.tokenEndpoint, authMethod: method, resource })
  }
  // The loopback callback, on the port the entry asks for (pre-registered clients often need a fixed one).
  const state = base64url(randomBytes(16))
  const got = Promise.withResolvers<{ code: string }>()
  const callback = Bun.serve({
    hostname: "127.0.0.1",
    port: request.settings.callbackPort ?? 0,
    fetch(req) {
      const url = new URL(req.url)
      if (url.pathname !== "/callback") return new Response("not here", { status: 404 })
      const code = url.searchParams.get("code")
      // Another page's request (no state, or not ours) is refused and the login goes on waiting for its own.
      if (url.searchParams.get("state") !== state) return new Response("byok: not the login byok started.", { status: 400 })
      if (code === null) {
        got.reject(new Error(`the authorization server answered ${word(url.searchParams.get("error")) ?? "without a code"}`))
        return new Response("byok: the login failed; you can close this page.", { status: 400 })
      }
      got.resolve({ code })
      return new Response("byok: logged in; you can close this page.")
    }
  })
  const redirectUri = `http://127.0.0.1:${callback.port}/callback`
  try {
    if (clientId === undefined) {
      if (as.registrationEndpoint === undefined) throw new Error(`${as.issuer} offers no client registration: give "oauth": { "clientId" } in the server's entry`)
      const response = await mcpFetch(as.registrationEndpoint, {
        method: "POST",
        redirect: "error",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          client_name: "byok",
          redirect_uris: [redirectUri],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
          ...(scope !== undefined ? { scope } : {})
        })
      })
      const registered = await response.json().catch(() => ({})) as Json
      if (!response.ok || typeof registered["client_id"] !== "string") throw new Error(`registering a client at ${as.registrationEndpoint} failed (${response.status})`)
      clientId = registered["client_id"]
      clientSecret = typeof registered["client_secret"] === "string" ? registered["client_secret"] : undefined
      const chosen = registered["token_endpoint_auth_method"]
      method = chosen === "client_secret_basic" || chosen === "client_secret_post" || chosen === "none" ? chosen : pickMethod(as.authMethods, clientSecret)
    } else if (request.previous === undefined) method = pickMethod(as.authMethods, clientSecret)
    const verifier = base64url(randomBytes(32))
    const challenge = base64url(createHash("sha256").update(verifier).digest())
    const authorize = new URL(as.authorizationEndpoint)
    for (const [k, v] of Object.entries({
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
      resource,
      ...(scope !== undefined ? { scope } : {})
    })) authorize.searchParams.set(k, v)
    request.open(authorize.href)
    const timer = setTimeout(() => got.reject(new Error("no answer from the browser in time")), request.timeoutMs ?? 300_000)
    const { code } = await got.promise.finally(() => clearTimeout(timer))
    const value = await tokenRequest(as.tokenEndpoint, { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier, resource }, { id: clientId, secret: clientSecret, method })
    return tokensOf(value, { clientId, clientSecret, tokenEndpoint: as.tokenEndpoint, authMethod: method, resource })
  } finally {
    callback.stop(true)
  }
}

/** New tokens from a refresh token; undefined when there is none or the server refuses it. */
export const refresh = async (tokens: Tokens): Promise<Tokens | undefined> => {
  if (tokens.refreshToken === undefined) return undefined
  try {
    const value = await tokenRequest(tokens.tokenEndpoint, { grant_type: "refresh_token", refresh_token: tokens.refreshToken, resource: tokens.resource }, {
      id: tokens.clientId,
      secret: tokens.clientSecret,
      method: tokens.authMethod
    })
    return tokensOf(value, tokens, tokens)
  } catch {
    return undefined
  }
}

// ---- for a server -----------------------------------------------------------------------------------------------

/**
 * Opens a URL for a person: $BROWSER when set, else the platform's opener; the URL is told either way. In offline
 * mode a page elsewhere is not opened (the browser would contact it for byok): the refusal is told and returned.
 */
export const openBrowser = (url: string, tell: (text: string) => void): string | undefined => {
  const refused = refusalFor(url)
  if (refused !== undefined) {
    tell(`Not opened: ${refused.message}`)
    return refused.message
  }
  tell(`Open this page to log in (byok opened it where it could): ${url}`)
  const browser = process.env["BROWSER"]
  const argv = browser !== undefined && browser.trim() !== ""
    ? [...browser.trim().split(/\s+/), url]
    : process.platform === "darwin"
    ? ["open", url]
    : process.platform === "win32"
    ? ["cmd", "/c", "start", "", url]
    : ["xdg-open", url]
  try {
    Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).unref()
  } catch {
    // no opener: the URL was told
  }
  return undefined
}

export interface AuthOptions {
  readonly server: { readonly name: string; readonly url?: string | undefined; readonly oauth?: OAuthSettings | undefined }
  /** The token store; undefined: nothing is kept (each run logs in where it may). */
  readonly file: string | undefined
  /** Whether a login with a browser may run now (byok mcp login, or $BROWSER set); else the user is told. */
  readonly interactive: boolean
  readonly tell: (text: string) => void
  /** Every token is a secret: the redactor learns each. */
  readonly secret: (value: string) => void
}

/** The bearer token of a server, refreshed and renewed as the hub needs it (client.ts's Auth). */
export const authFor = (options: AuthOptions) => {
  let current = options.file !== undefined ? loadTokens(options.file, tokenKey(options.server)) : undefined
  const keep = (tokens: Tokens) => {
    current = tokens
    options.secret(tokens.accessToken)
    if (tokens.refreshToken !== undefined) options.secret(tokens.refreshToken)
    const unsaved = options.file !== undefined ? saveTokens(options.file, tokenKey(options.server), tokens) : undefined
    if (unsaved !== undefined) options.tell(`the login to ${options.server.name} could not be kept (${unsaved}): it lasts this run only`)
    return tokens.accessToken
  }
  if (current !== undefined) {
    options.secret(current.accessToken)
    if (current.refreshToken !== undefined) options.secret(current.refreshToken)
  }
  const machine = options.server.oauth?.grant === "client_credentials" || options.server.oauth?.grant === "cross_app_access"
  const logIn = async (challenge: string | undefined): Promise<string | { readonly why: string }> => {
    if (!machine && !options.interactive) {
      return { why: `the server asks for an OAuth login: run byok mcp login ${options.server.name}` }
    }
    try {
      return keep(await login({
        serverUrl: options.server.url!,
        challenge,
        settings: options.server.oauth ?? {},
        open: (url) => openBrowser(url, options.tell),
        previous: current
      }))
    } catch (error) {
      return { why: `the OAuth login failed: ${(error as Error).message}` }
    }
  }
  return {
    token: async () => {
      if (current !== undefined && expiring(current)) {
        const refreshed = await refresh(current)
        if (refreshed !== undefined) keep(refreshed)
      }
      return current?.accessToken
    },
    renew: async (challenge: string | undefined, status: number): Promise<string | { readonly why: string }> => {
      // A 403 asks for more scope (step-up): a new login with what it names. A 401: a refresh, else a login.
      if (status === 401 && current !== undefined) {
        const refreshed = await refresh(current)
        if (refreshed !== undefined) return keep(refreshed)
      }
      if (status === 403 && challengeParam(challenge, "error") !== "insufficient_scope") return { why: "the server refused the token (403)" }
      return logIn(challenge)
    },
    login: logIn
  }
}
