import type { CanActivate, DynamicModule, Type } from '@nestjs/common';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { messages } from '../core/messages.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';

/**
 * Options of `RedisBrokerDashboardModule.register()`.
 * @publicApi
 */
export interface RedisBrokerDashboardOptions {
  /** Route the page is served at; its JSON API lives under `<path>/api`. Default `broker`. */
  path?: string;
  /**
   * The app's own auth: guards (classes or instances) put on the dashboard's
   * controller with `@UseGuards`, so they run for the page and every API call.
   * Default none: then the dashboard is read-only (requeue and purge answer
   * 403) and a warning is logged at boot, unless `public` is true.
   */
  guards?: (Type<CanActivate> | CanActivate)[];
  /**
   * Serve requeue and purge without any guard, to whoever reaches the port
   * (an internal port, or auth done in front of the app). Default false.
   */
  public?: boolean;
  /** Modules the guard classes need for their own dependencies (e.g. your auth module). */
  imports?: (Type | DynamicModule)[];
  /** How often the page reloads its counts, in ms. Default 2000. */
  refreshIntervalMs?: number;
}

/** Dashboard options with defaults applied. */
export interface ResolvedDashboardOptions {
  path: string;
  guards: (Type<CanActivate> | CanActivate)[];
  public: boolean;
  imports: (Type | DynamicModule)[];
  refreshIntervalMs: number;
}

const KNOWN = ['path', 'guards', 'public', 'imports', 'refreshIntervalMs'] as const;
const PATH = /^[\w\-./]{0,200}$/;
const MIN_REFRESH_MS = 250;

/** Validates dashboard options; throws `InvalidBrokerOptionsError` naming the option. */
export function resolveDashboardOptions(raw: RedisBrokerDashboardOptions | undefined): ResolvedDashboardOptions {
  const options = raw ?? {};
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key as (typeof KNOWN)[number])) {
      throw new InvalidBrokerOptionsError(messages.unknownOption(`dashboard.${key}`, KNOWN));
    }
  }
  const path = (options.path ?? BROKER_DEFAULTS.dashboard.path).replace(/^\/+|\/+$/g, '');
  if (!PATH.test(path) || path.includes('..')) {
    fail('dashboard.path', options.path, 'a route of letters, digits and - _ . / (e.g. "ops/broker")');
  }
  const guards = options.guards ?? [];
  if (!Array.isArray(guards) || !guards.every((g) => typeof g === 'function' || typeof (g as Partial<CanActivate>)?.canActivate === 'function')) {
    fail('dashboard.guards', guards, 'an array of guard classes or objects with canActivate()');
  }
  const isPublic = options.public ?? false;
  if (typeof isPublic !== 'boolean') fail('dashboard.public', isPublic, 'true or false');
  const imports = options.imports ?? [];
  if (!Array.isArray(imports)) fail('dashboard.imports', imports, 'an array of modules');
  const refreshIntervalMs = options.refreshIntervalMs ?? BROKER_DEFAULTS.dashboard.refreshIntervalMs;
  if (!Number.isInteger(refreshIntervalMs) || refreshIntervalMs < MIN_REFRESH_MS) {
    fail('dashboard.refreshIntervalMs', refreshIntervalMs, `a whole number of ms, at least ${MIN_REFRESH_MS}`);
  }
  return { path, guards, public: isPublic, imports, refreshIntervalMs };
}

function fail(path: string, value: unknown, accepted: string): never {
  throw new InvalidBrokerOptionsError(messages.invalidOption(path, value, accepted));
}
