import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface User {
  id: number;
  name: string;
  createdAt: string;
}

export interface Post {
  id: number;
  authorId: number;
  body: string;
  createdAt: string;
}

/**
 * The source of truth of the sample: users, follows and posts in SQLite
 * (better-sqlite3, synchronous, WAL). The Redis timeline cache is rebuilt
 * from here; nothing lives only in Redis.
 */
export class TimelineStore {
  private readonly db: Database.Database;

  /** Opens (and creates) the database at `path`; `:memory:` for a throwaway one. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS follows (
        follower_id INTEGER NOT NULL REFERENCES users(id),
        followee_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (follower_id, followee_id)
      );
      CREATE INDEX IF NOT EXISTS follows_by_followee ON follows (followee_id, follower_id);
      CREATE TABLE IF NOT EXISTS posts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        author_id INTEGER NOT NULL REFERENCES users(id),
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS posts_by_author ON posts (author_id, id);
    `);
  }

  /** Creates a user; `undefined` when the name is taken. */
  createUser(name: string): User | undefined {
    const createdAt = new Date().toISOString();
    const result = this.db.prepare('INSERT OR IGNORE INTO users (name, created_at) VALUES (?, ?)').run(name, createdAt);
    if (result.changes === 0) return undefined;
    return { id: Number(result.lastInsertRowid), name, createdAt };
  }

  findUser(id: number): User | undefined {
    const row = this.db.prepare('SELECT id, name, created_at AS createdAt FROM users WHERE id = ?').get(id) as User | undefined;
    return row;
  }

  /** `true` when the follow is new. */
  follow(followerId: number, followeeId: number): boolean {
    const result = this.db
      .prepare('INSERT OR IGNORE INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)')
      .run(followerId, followeeId, new Date().toISOString());
    return result.changes > 0;
  }

  /** `true` when there was a follow to remove. */
  unfollow(followerId: number, followeeId: number): boolean {
    return this.db.prepare('DELETE FROM follows WHERE follower_id = ? AND followee_id = ?').run(followerId, followeeId).changes > 0;
  }

  followerIds(userId: number): number[] {
    return (this.db.prepare('SELECT follower_id AS id FROM follows WHERE followee_id = ? ORDER BY follower_id').all(userId) as { id: number }[]).map((r) => r.id);
  }

  followeeIds(userId: number): number[] {
    return (this.db.prepare('SELECT followee_id AS id FROM follows WHERE follower_id = ? ORDER BY followee_id').all(userId) as { id: number }[]).map((r) => r.id);
  }

  createPost(authorId: number, body: string): Post {
    const createdAt = new Date().toISOString();
    const result = this.db.prepare('INSERT INTO posts (author_id, body, created_at) VALUES (?, ?, ?)').run(authorId, body, createdAt);
    return { id: Number(result.lastInsertRowid), authorId, body, createdAt };
  }

  /** Posts by id, in the order of `ids`; unknown ids are skipped. */
  postsByIds(ids: readonly number[]): Post[] {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT id, author_id AS authorId, body, created_at AS createdAt FROM posts WHERE id IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as Post[];
    const byId = new Map(rows.map((p) => [p.id, p]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Ids of the newest `limit` posts of a user's home timeline (their own and their followees'), oldest first. */
  homeTimelineIds(userId: number, limit: number): number[] {
    const rows = this.db
      .prepare(`
        SELECT id FROM posts
        WHERE author_id = ? OR author_id IN (SELECT followee_id FROM follows WHERE follower_id = ?)
        ORDER BY id DESC LIMIT ?`)
      .all(userId, userId, limit) as { id: number }[];
    return rows.map((r) => r.id).reverse();
  }

  /** Whether a post newer than `afterId` belongs on the user's home timeline. */
  hasHomePostAfter(userId: number, afterId: number): boolean {
    const row = this.db
      .prepare(`
        SELECT 1 FROM posts
        WHERE id > ? AND (author_id = ? OR author_id IN (SELECT followee_id FROM follows WHERE follower_id = ?))
        LIMIT 1`)
      .get(afterId, userId, userId);
    return row !== undefined;
  }

  close(): void {
    this.db.close();
  }
}
