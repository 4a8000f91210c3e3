export { SigningKeys, type SigningKeysInit } from "./keys.js";
export {
  GENERATED_KEY_BYTES,
  MAX_KEY_BYTES,
  MIN_KEY_BYTES,
  SECRET_PREFIX,
  generateSecret,
  parseSecret,
  type ParsedSecret,
} from "./secret.js";
export { webhookHeaders, webhookSignature, type WebhookHeaders } from "./signer.js";
export { DEFAULT_TOLERANCE_SECONDS, verifyWebhook, type VerifyResult } from "./verifier.js";
export { MAX_WEBHOOK_ID_LENGTH, isValidWebhookId, webhookId, type EventRef } from "./webhook-id.js";
