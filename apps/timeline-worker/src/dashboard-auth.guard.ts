import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';

/** The user name the sample's dashboard asks for. */
export const DASHBOARD_USER = 'admin';

/**
 * The sample's auth for the broker dashboard: HTTP Basic with user `admin`
 * and the worker's `DASHBOARD_PASSWORD`, so a browser asks once and then
 * sends the credentials with the page's API calls too. Without a password
 * configured nobody gets in. A real app passes its own guard instead.
 */
export class DashboardAuthGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(password: string | undefined) {
    this.expected = password ? digest(`${DASHBOARD_USER}:${password}`) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const header = http.getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization ?? '';
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    // Compared as digests of equal length, in constant time.
    if (this.expected && match && timingSafeEqual(digest(Buffer.from(match[1], 'base64').toString('utf8')), this.expected)) return true;
    http.getResponse<{ setHeader(name: string, value: string): void }>().setHeader('WWW-Authenticate', 'Basic realm="broker dashboard"');
    throw new UnauthorizedException(this.expected ? 'Dashboard credentials required' : 'Set DASHBOARD_PASSWORD to open the dashboard');
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
