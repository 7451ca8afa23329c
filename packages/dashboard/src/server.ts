import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createDashboardApp, type DashboardOptions } from './app.js';
import { isLoopback } from './auth.js';

/** Options of {@link createDashboardServer}. */
export interface DashboardServerOptions extends DashboardOptions {
  /** Interface to bind. Anything but loopback exposes runs to the network. @default '127.0.0.1' */
  hostname?: string;
  /** @default 4680; 0 picks a free port */
  port?: number;
  /** Receives the warning printed when `hostname` is not a loopback address. @default stderr */
  warn?: (message: string) => void;
}

/** A running (or ready to run) dashboard. */
export interface DashboardServer {
  /** The hono app, for `app.fetch(request)` in tests or another server. */
  readonly app: ReturnType<typeof createDashboardApp>;
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:4680`). */
  listen(): Promise<string>;
  /** Stops listening. The registry and engine stay open: they belong to the caller. */
  close(): Promise<void>;
}

/** Default port of `baton dashboard`. */
export const DEFAULT_DASHBOARD_PORT = 4680;

/**
 * Creates the dashboard web server over a run registry and an engine.
 *
 * @example
 * ```ts
 * const dashboard = createDashboardServer({ registry, engine, token: process.env.BATON_DASHBOARD_TOKEN! });
 * console.log(`dashboard on ${await dashboard.listen()}`);
 * ```
 */
export function createDashboardServer(options: DashboardServerOptions): DashboardServer {
  const app = createDashboardApp(options);
  const hostname = options.hostname ?? '127.0.0.1';
  let server: ServerType | undefined;
  return {
    app,
    listen() {
      if (!isLoopback(hostname)) {
        const warn = options.warn ?? ((m: string) => void process.stderr.write(`warning: ${m}\n`));
        warn(
          `the dashboard listens on ${hostname}, not on loopback: anyone who can reach this port can see its login page and try tokens${options.secureCookies ? '' : ', and the session cookie travels without TLS (serve it behind HTTPS with secureCookies)'}. Bind 127.0.0.1 unless other machines must reach it.`,
        );
      }
      return new Promise((resolve, reject) => {
        const s = serve({ fetch: app.fetch, hostname, port: options.port ?? DEFAULT_DASHBOARD_PORT }, (info: AddressInfo) => {
          const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
          resolve(`http://${host}:${info.port}`);
        });
        s.once('error', reject);
        server = s;
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        if (!server) return resolve();
        server.close((e) => (e ? reject(e) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
        server = undefined;
      });
    },
  };
}
