import { BadRequestException } from '@nestjs/common';

// HTTP input is `unknown` until narrowed here; a bad request names the field.

const MAX_NAME = 40;
const MAX_BODY = 500;
/** Largest page of a timeline read. */
export const MAX_PAGE = 100;

export function parseUserId(raw: string, field = 'id'): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) throw new BadRequestException(`${field} must be a positive integer`);
  return value;
}

export function parseCreateUser(body: unknown): { name: string } {
  const name = field(body, 'name');
  if (typeof name !== 'string' || !/^[\w.-]{1,40}$/.test(name)) {
    throw new BadRequestException(`name must be 1 to ${MAX_NAME} letters, digits, _ . or -`);
  }
  return { name };
}

export function parseCreatePost(body: unknown): { body: string } {
  const text = field(body, 'body');
  if (typeof text !== 'string' || text.trim().length === 0 || text.length > MAX_BODY) {
    throw new BadRequestException(`body must be a non-empty string of at most ${MAX_BODY} characters`);
  }
  return { body: text };
}

export function parsePage(offset: string | undefined, limit: string | undefined): { offset: number; limit: number } {
  const o = offset === undefined ? 0 : Number(offset);
  const l = limit === undefined ? 20 : Number(limit);
  if (!Number.isSafeInteger(o) || o < 0) throw new BadRequestException('offset must be a whole number ≥ 0');
  if (!Number.isSafeInteger(l) || l < 1 || l > MAX_PAGE) throw new BadRequestException(`limit must be a whole number from 1 to ${MAX_PAGE}`);
  return { offset: o, limit: l };
}

function field(body: unknown, name: string): unknown {
  if (body === null || typeof body !== 'object') throw new BadRequestException('expected a JSON object body');
  return (body as Record<string, unknown>)[name];
}
