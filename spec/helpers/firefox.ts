import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's Firefox ESR, which `npm test`'s setup installs. */
export const FIREFOX = '/usr/bin/firefox-esr';

/**
 * Starts headless Firefox over WebDriver BiDi (puppeteer-core, no browser
 * download), with a fresh profile. `prefs` are added to the profile (the
 * microphone tests set the fake-stream ones); `env` to its environment (the
 * PulseAudio server it plays to and records from).
 */
export async function launchFirefox(
  prefs: Readonly<Record<string, unknown>> = {},
  env: Readonly<Record<string, string>> = {},
): Promise<Browser> {
  if (!existsSync(FIREFOX))
    throw new Error(`no Firefox at ${FIREFOX}: run npm test (its setup installs firefox-esr)`);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    env: { ...process.env, ...env },
    extraPrefsFirefox: {
      // No network beyond loopback here: keep Firefox from trying.
      'network.proxy.type': 0,
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      ...prefs,
    },
  });
}
