import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { ResponsesService } from './responses.service.js';

/** OpenAI's Responses API: create (JSON or a stream of typed events), retrieve, delete, input items. */
@Controller('v1/responses')
export class ResponsesController {
  constructor(private readonly responses: ResponsesService) {}

  @Post()
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() raw: unknown): Promise<void> {
    await this.responses.create(req, reply, raw);
  }

  @Get(':id')
  async get(@Req() req: FastifyRequest, @Param('id') id: string, @Query('stream') stream?: string) {
    if (stream === 'true')
      throw ApiError.unsupported('stream', 'Replaying a stored response as a stream is not supported.');
    return (await this.responses.stored(req, id)).response;
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@Req() req: FastifyRequest, @Param('id') id: string) {
    await this.responses.delete(req, id);
    return { id, object: 'response.deleted', deleted: true };
  }

  /** The response's own input items (not earlier turns'), newest first unless `order=asc`, paged by `after`. */
  @Get(':id/input_items')
  async inputItems(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Query('order') order = 'desc',
    @Query('limit') limitRaw = '20',
    @Query('after') after?: string,
  ) {
    if (order !== 'asc' && order !== 'desc') throw ApiError.invalid("'order' must be 'asc' or 'desc'.", 'order');
    const limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw ApiError.invalid("'limit' must be an integer from 1 to 100.", 'limit');
    const s = await this.responses.stored(req, id);
    let items = s.conversation.slice(s.conversation.length - s.inputCount);
    if (order === 'desc') items = items.reverse();
    if (after !== undefined) {
      const at = items.findIndex((i) => i.id === after);
      if (at < 0) throw ApiError.invalid(`No input item '${after}' in response '${id}'.`, 'after');
      items = items.slice(at + 1);
    }
    const data = items.slice(0, limit);
    return {
      object: 'list',
      data,
      has_more: items.length > limit,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    };
  }
}
