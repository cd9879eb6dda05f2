import { Body, ConflictException, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Post as TimelinePost, User } from '../../timeline-shared/src/index.js';
import { parseCreatePost, parseCreateUser, parsePage, parseUserId } from './api.requests.js';
import { SocialService } from './social.service.js';
import { TimelineReader, type TimelinePage } from './timeline-reader.service.js';

/** Users, follows, posts and home timelines. */
@Controller('users')
export class UsersController {
  constructor(
    private readonly social: SocialService,
    private readonly timelines: TimelineReader,
  ) {}

  @Post()
  createUser(@Body() body: unknown): User {
    const { name } = parseCreateUser(body);
    const user = this.social.createUser(name);
    if (!user) throw new ConflictException(`name "${name}" is taken`);
    return user;
  }

  @Get(':id')
  user(@Param('id') id: string): User {
    return this.social.user(parseUserId(id));
  }

  @Post(':id/login')
  @HttpCode(200)
  login(@Param('id') id: string): Promise<User> {
    return this.social.login(parseUserId(id));
  }

  @Post(':id/follows/:followeeId')
  @HttpCode(200)
  async follow(@Param('id') id: string, @Param('followeeId') followeeId: string): Promise<{ following: boolean; created: boolean }> {
    const created = await this.social.follow(parseUserId(id), parseUserId(followeeId, 'followeeId'));
    return { following: true, created };
  }

  @Delete(':id/follows/:followeeId')
  async unfollow(@Param('id') id: string, @Param('followeeId') followeeId: string): Promise<{ following: boolean; removed: boolean }> {
    const removed = await this.social.unfollow(parseUserId(id), parseUserId(followeeId, 'followeeId'));
    return { following: false, removed };
  }

  @Post(':id/posts')
  createPost(@Param('id') id: string, @Body() body: unknown): Promise<TimelinePost> {
    return this.social.createPost(parseUserId(id), parseCreatePost(body).body);
  }

  @Get(':id/timeline')
  timeline(@Param('id') id: string, @Query('offset') offset?: string, @Query('limit') limit?: string): Promise<TimelinePage> {
    const userId = parseUserId(id);
    this.social.user(userId);
    const page = parsePage(offset, limit);
    return this.timelines.page(userId, page.offset, page.limit);
  }
}
