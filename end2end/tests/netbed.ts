// The NAT bed (../netbed/netbed.sh) from Playwright: building and changing it, and browsers
// that run inside its namespaces. Used by the NAT tests and the relayed-call benchmark.
import { chromium, type Browser } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import path from 'node:path';

const NETBED = path.resolve(__dirname, '..', 'netbed', 'netbed.sh');
/** This process's bed: namespaces `<BED>-srv`, `<BED>-nata`, `<BED>-cla` and so on. */
export const BED = `n${process.pid % 1_000_000}`;
export const SERVER_IP = '203.0.113.10';
/** Plain-http ports the bed's browsers treat as secure origins (the camera needs one). */
export const PORTS = { embedded: 8080, off: 8081, external: 8082 };

export function netbed(...args: string[]): void {
  execFileSync(NETBED, args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
}

/**
 * A self-signed certificate for the server's address, made with Debian's openssl, and the
 * base64 SHA-256 of its public key, which Chromium is told to trust.
 */
export function makeCertificate(dir: string): { cert: string; key: string; spki: string } {
  const cert = path.join(dir, 'site.crt');
  const key = path.join(dir, 'site.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', `/CN=${SERVER_IP}`, '-addext', `subjectAltName=IP:${SERVER_IP}`,
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  const spkiDer = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
  return { cert, key, spki: createHash('sha256').update(spkiDer).digest('base64') };
}

/**
 * A Chromium that runs inside `netns`, through a wrapper Playwright starts as its browser;
 * `extra` flags after the bed's own.
 */
export async function browserIn(netns: string, dir: string, extra: string[] = []): Promise<Browser> {
  const wrapper = path.join(dir, `chromium-${netns}-${extra.length}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  const origins = Object.values(PORTS).map((p) => `http://${SERVER_IP}:${p}`);
  return chromium.launch({
    executablePath: wrapper,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      // The camera needs a secure origin, and a plain-http address is one only when told so.
      `--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`,
      // The bed has no DNS: every name but the server's address fails at once.
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${SERVER_IP}`,
      ...extra,
    ],
  });
}
