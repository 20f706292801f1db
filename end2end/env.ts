// Ports and the fake provider's key, shared by the Playwright config and the tests.
export const APP_PORT = Number(process.env.E2E_APP_PORT ?? 3100);
export const FAKE_PORT = Number(process.env.E2E_FAKE_PORT ?? 3199);
export const FAKE_BASE_URL = `http://127.0.0.1:${FAKE_PORT}/v1`;
export const FAKE_KEY = 'sk-e2e-secret-key-7777';
