// Browser-test helpers: Debian's headless Chromium driven by playwright-core, and screenshots.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { SOURCE_DIR } from './chiron.mjs';

// Headless Chromium from the Debian package (CHROMIUM overrides the path); nothing phones home.
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Test runs leave screenshots in test-results/; with docs: true and CHIRON_UPDATE_SCREENSHOTS=1
// they refresh the one the docs show (docs/images/, or docsDir relative to the source tree), so a
// test run never dirties the checkout.
export async function saveScreenshot(page, name, { docs = false, docsDir = 'docs/images', ...options } = {}) {
  const dir = docs && process.env.CHIRON_UPDATE_SCREENSHOTS ? path.join(SOURCE_DIR, docsDir)
                                                            : path.join(SOURCE_DIR, 'test-results');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, name), ...options });
}
