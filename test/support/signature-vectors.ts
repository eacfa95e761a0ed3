import type { SignatureScheme } from '../../functions/shared/domain/signature.js';

export const url = 'https://hooks.example.com/webhooks/vobiz/recording';
export const token = 'auth-token';
export const parent = 'parent-token';
export const v3Nonce = '12345678901234567890';
export const v2Nonce = '98765432109876543210';

/**
 * Computed outside this code base, from facts.md, with OpenSSL 3.0:
 *   U=https://hooks.example.com/webhooks/vobiz/recording
 *   printf '%s' "$U.12345678901234567890" | openssl dgst -sha256 -hmac auth-token -binary | base64    # V3
 *   printf '%s' "$U98765432109876543210"  | openssl dgst -sha256 -hmac auth-token -binary | base64    # V2
 *   printf '%s' "$U.12345678901234567890" | openssl dgst -sha256 -hmac parent-token -binary | base64  # MA-V3
 *   printf '%s' "$U98765432109876543210"  | openssl dgst -sha256 -hmac parent-token -binary | base64  # MA-V2
 */
export const VECTORS = {
  V3: 'Nln7ZuVz9aDS87y8bpRA2RmxupKNpbf/7+dF1FO/fm4=',
  V2: 'iwQsKEX0FE87x9RrgdVRGARHot61pYvFbqo7flB6oW8=',
  'MA-V3': 'bX+jyqfc9YZqGJpmH8MvaQzt/mv8yuxBnRRrafs9kQk=',
  'MA-V2': 'T+g2JBpv53o4WxSInugr3qfPXUq7qiGkKubssxFou4A=',
} as const satisfies Record<SignatureScheme, string>;
