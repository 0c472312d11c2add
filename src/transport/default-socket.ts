// Node.js: the `ws` package. Browser bundles get default-socket.browser.ts instead
// (the "browser" field of package.json), so they never pull in `ws`.
export { nodeSocketFactory as defaultSocketFactory } from './node-socket.js';
/** Whether the default sockets can send handshake headers (Node: yes). */
export const HEADERS_ALLOWED = true;
