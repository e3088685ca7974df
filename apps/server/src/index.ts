export { buildServer, type QxApp, type ServerDeps } from './app.js';
export { parseConfig, type Config } from './config.js';
export { SecretTokenVerifier, JwksTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
